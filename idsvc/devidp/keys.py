"""The demo provider's ID-token signing key and the JWKS that publishes it.

One key, ES256 unless an RSA PEM is supplied. The ``kid`` is the key's RFC 7638
thumbprint, so a given PEM always gets the same ``kid``; the JWK names its ``alg`` so
that a relying party pins the algorithm from the key, never from a token header.
"""

from __future__ import annotations

import msgspec
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from joserfc.jwk import ECKey, RSAKey

__all__ = ["SigningKey", "load_signing_key"]


class SigningKey(msgspec.Struct, frozen=True, kw_only=True):
    alg: str
    kid: str
    private_key: ECKey | RSAKey
    public_jwk: dict[str, str]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [self.public_jwk]}


def load_signing_key(pem: str | None) -> SigningKey:
    """The key from ``pem``, or a fresh ES256 key when there is none."""
    if pem is None:
        return _signing_key(ECKey.generate_key("P-256", private=True), "ES256")
    try:
        loaded = load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ValueError(
            f"devidp.signing_key: not an unencrypted PEM private key ({exc})"
        ) from None
    if isinstance(loaded, ec.EllipticCurvePrivateKey) and isinstance(loaded.curve, ec.SECP256R1):
        return _signing_key(ECKey.import_key(pem), "ES256")
    if isinstance(loaded, rsa.RSAPrivateKey) and loaded.key_size >= 2048:
        return _signing_key(RSAKey.import_key(pem), "RS256")
    raise ValueError("devidp.signing_key: an EC P-256 key or an RSA key of 2048 bits or more")


def _signing_key(key: ECKey | RSAKey, alg: str) -> SigningKey:
    kid = key.thumbprint()
    public = {str(name): str(value) for name, value in key.as_dict(private=False).items()}
    public.update(kid=kid, alg=alg, use="sig")
    return SigningKey(alg=alg, kid=kid, private_key=key, public_jwk=public)
