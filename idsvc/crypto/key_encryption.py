"""Encryption at rest for private keys and service secrets: AES-256-GCM under the KEK.

The key-encryption key (KEK) comes from ``IDSVC_KEY_ENCRYPTION_KEY`` (or ``_FILE``) as 32
bytes in base64url. Its id (a short hash) is stored beside each ciphertext so a future KEK
rotation knows what to re-encrypt. The associated data binds each ciphertext to its row,
so a ciphertext copied into another row fails to decrypt instead of being used as that
row's key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["KeyEncryptionError", "KeyEncryptionKey", "generate_kek_file"]

_NONCE_BYTES = 12


class KeyEncryptionError(Exception):
    """The KEK is missing or malformed, or a ciphertext does not decrypt under it."""


class KeyEncryptionKey:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise KeyEncryptionError("the key-encryption key must be 32 bytes")
        self._aead = AESGCM(key)
        # Identifies the KEK without revealing it.
        self.kek_id = hashlib.sha256(b"idsvc kek id\x00" + key).hexdigest()[:16]

    @classmethod
    def from_text(cls, text: bytes) -> KeyEncryptionKey:
        try:
            raw = base64.urlsafe_b64decode(text.strip() + b"=" * (-len(text.strip()) % 4))
        except (binascii.Error, ValueError):
            raise KeyEncryptionError(
                "IDSVC_KEY_ENCRYPTION_KEY is not base64url (generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            ) from None
        if len(raw) != 32:
            raise KeyEncryptionError(
                f"IDSVC_KEY_ENCRYPTION_KEY decodes to {len(raw)} bytes; it must be 32"
            )
        return cls(raw)

    def __repr__(self) -> str:
        return f"KeyEncryptionKey(kek_id={self.kek_id!r})"

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, blob: bytes, *, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], context)
        except InvalidTag:
            raise KeyEncryptionError(
                "a stored secret does not decrypt under the configured key-encryption key"
            ) from None


def generate_kek_file(path: Path) -> bytes:
    """Create a KEK file (mode 0600) if absent and return its text; used by ``idsvc dev``."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = secrets.token_urlsafe(32).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(text + b"\n")
    return path.read_bytes().strip()
