"""Comparing a secret a client presents with the expected one, in constant time.

``hmac.compare_digest`` raises ``TypeError`` on a ``str`` with non-ASCII characters, and a
client chooses what it presents: a CSRF token of "é" answered 500. Compare UTF-8 bytes.
"""

from __future__ import annotations

import hmac

__all__ = ["same_secret"]


def same_secret(presented: str | bytes, expected: str | bytes) -> bool:
    if isinstance(presented, str):
        presented = presented.encode("utf-8", "surrogatepass")
    if isinstance(expected, str):
        expected = expected.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(presented, expected)
