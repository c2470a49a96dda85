"""Public JWKs (RFC 7517/7518/8037) and thumbprints (RFC 7638).

Only the three key types the service signs with exist here: EC P-256 (ES256), OKP Ed25519
(EdDSA) and RSA >= 2048 bits (RS256). A JWK always names its ``alg``: the algorithm is a
property of the key, never taken from a token's header.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Literal

import msgspec
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from idsvc.jose.base64url import b64url_decode, b64url_encode

__all__ = [
    "ALGORITHMS",
    "PublicJWK",
    "PublicKey",
    "key_from_public_jwk",
    "public_jwk_from_key",
    "thumbprint",
]

ALGORITHMS = ("ES256", "EdDSA", "RS256")
Algorithm = Literal["ES256", "EdDSA", "RS256"]
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
_MIN_RSA_BITS = 2048
# Members that only a private JWK has; a public key set carrying them is refused.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class PublicJWK(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    kty: Literal["EC", "OKP", "RSA"]
    kid: str | None = None
    alg: Algorithm | None = None
    use: str | None = None
    crv: str | None = None
    x: str | None = None
    y: str | None = None
    n: str | None = None
    e: str | None = None


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")


def public_jwk_from_key(key: PublicKey, *, kid: str | None, alg: Algorithm) -> PublicJWK:
    use = "sig" if kid is not None else None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1) or alg != "ES256":
            raise ValueError("EC keys must be P-256 with ES256")
        numbers = key.public_numbers()
        return PublicJWK(
            kty="EC",
            crv="P-256",
            kid=kid,
            alg=alg if use else None,
            use=use,
            x=b64url_encode(numbers.x.to_bytes(32, "big")),
            y=b64url_encode(numbers.y.to_bytes(32, "big")),
        )
    if isinstance(key, ed25519.Ed25519PublicKey):
        if alg != "EdDSA":
            raise ValueError("Ed25519 keys sign with EdDSA")
        from cryptography.hazmat.primitives import serialization

        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PublicJWK(
            kty="OKP",
            crv="Ed25519",
            kid=kid,
            alg=alg if use else None,
            use=use,
            x=b64url_encode(raw),
        )
    if alg != "RS256" or key.key_size < _MIN_RSA_BITS:
        raise ValueError("RSA keys must be at least 2048 bits with RS256")
    rsa_numbers = key.public_numbers()
    return PublicJWK(
        kty="RSA",
        kid=kid,
        alg=alg if use else None,
        use=use,
        n=b64url_encode(_int_bytes(rsa_numbers.n)),
        e=b64url_encode(_int_bytes(rsa_numbers.e)),
    )


def key_from_public_jwk(jwk: Mapping[str, object]) -> PublicKey:
    """A cryptography public key from a JWK dict; refuses private members and odd keys."""
    if PRIVATE_MEMBERS & set(jwk):
        raise ValueError("a public JWK must not carry private key members")

    def member(name: str) -> bytes:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise ValueError(f"JWK member {name!r} missing")
        return b64url_decode(value)

    kty = jwk.get("kty")
    if kty == "EC" and jwk.get("crv") == "P-256":
        x, y = member("x"), member("y")
        if len(x) != 32 or len(y) != 32:
            raise ValueError("P-256 coordinates are 32 bytes")
        # Raises if the point is not on the curve (invalid-curve attacks).
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        ).public_key()
    if kty == "OKP" and jwk.get("crv") == "Ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(member("x"))
    if kty == "RSA":
        key = rsa.RSAPublicNumbers(
            int.from_bytes(member("e"), "big"), int.from_bytes(member("n"), "big")
        ).public_key()
        if key.key_size < _MIN_RSA_BITS:
            raise ValueError("RSA keys must be at least 2048 bits")
        return key
    raise ValueError(f"unsupported key type {kty!r}")


_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "RSA": ("e", "kty", "n"),
}


def thumbprint(jwk: PublicJWK | Mapping[str, object]) -> str:
    """RFC 7638: SHA-256 over the required members in lexicographic order, base64url."""
    data = msgspec.to_builtins(jwk) if isinstance(jwk, PublicJWK) else dict(jwk)
    members = _THUMBPRINT_MEMBERS.get(str(data.get("kty")))
    if members is None:
        raise ValueError("unsupported key type for a thumbprint")
    canonical = json.dumps({m: data[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())
