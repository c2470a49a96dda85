"""High-entropy codes handed to clients, and how they are stored (SHA-256 only)."""

from __future__ import annotations

import hashlib
import secrets

__all__ = [
    "USER_CODE_ALPHABET",
    "new_opaque",
    "new_user_code",
    "normalize_user_code",
    "stored_hash",
]

# RFC 8628 §6.1: no vowels (no words), no look-alikes; 20^8 ≈ 2^34.6 codes, and the
# verification page is rate limited per person.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


def new_opaque(prefix: str) -> str:
    """256 bits of randomness; the prefix makes leaked tokens recognisable to scanners."""
    return f"{prefix}{secrets.token_urlsafe(32)}"


def stored_hash(value: str) -> bytes:
    # A fast hash is enough: the values are random and 256 bits long, not passwords.
    return hashlib.sha256(value.encode()).digest()


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))


def normalize_user_code(typed: str) -> str | None:
    """What a person typed, as stored: case and dashes/spaces do not matter."""
    code = "".join(ch for ch in typed.upper() if ch not in "- ")
    if len(code) != 8 or any(ch not in USER_CODE_ALPHABET for ch in code):
        return None
    return code
