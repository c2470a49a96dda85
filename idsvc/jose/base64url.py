"""base64url without padding (RFC 7515 §2), strict on input."""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["b64url_decode", "b64url_encode"]

_ALPHABET = re.compile(rb"^[A-Za-z0-9_-]*$")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes) -> bytes:
    """Decode; refuses padding and characters outside the URL-safe alphabet, which the
    lenient standard decoder would skip (a way to make two encodings of one value)."""
    data = text.encode("ascii", "strict") if isinstance(text, str) else text
    if not _ALPHABET.match(data) or len(data) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))
    except binascii.Error:
        raise ValueError("not base64url") from None
