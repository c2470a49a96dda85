"""Generating signing keys and moving them in and out of their encrypted form."""

from __future__ import annotations

from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.jose.jwk import PublicJWK, public_jwk_from_key, thumbprint

__all__ = [
    "Algorithm",
    "PrivateKey",
    "decrypt_private_key",
    "encrypt_private_key",
    "generate_private_key",
    "public_jwk",
]

Algorithm = Literal["ES256", "EdDSA", "RS256"]
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey

# 3072-bit RSA matches the 128-bit security of P-256 and Ed25519 (NIST SP 800-57).
_RSA_BITS = 3072


def generate_private_key(alg: Algorithm) -> PrivateKey:
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)


def public_jwk(key: PrivateKey, alg: Algorithm) -> PublicJWK:
    """The public JWK with ``kid`` = its RFC 7638 thumbprint, ``alg`` and ``use: sig``."""
    anonymous = public_jwk_from_key(key.public_key(), kid=None, alg=alg)
    return public_jwk_from_key(key.public_key(), kid=thumbprint(anonymous), alg=alg)


def _context(kid: str, alg: str) -> bytes:
    return f"signing-key\x00{kid}\x00{alg}".encode()


def encrypt_private_key(
    key: PrivateKey, *, kid: str, alg: Algorithm, kek: KeyEncryptionKey
) -> bytes:
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return kek.encrypt(der, context=_context(kid, alg))


def decrypt_private_key(
    blob: bytes, *, kid: str, alg: Algorithm, kek: KeyEncryptionKey
) -> PrivateKey:
    der = kek.decrypt(blob, context=_context(kid, alg))
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(
        key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    ):
        raise TypeError(f"stored key {kid} is of an unexpected type")
    return key
