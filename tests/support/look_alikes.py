"""Addresses that only look like kate@acme.example, for the tests of every place an address
enters: each case's name, the address, and what a refusal must name (the code point or the
scripts, never the invisible character itself)."""

from __future__ import annotations

__all__ = ["IDS", "LOOK_ALIKES"]

LOOK_ALIKES = [
    ("zero-width-space", "ka\u200bte@acme.example", "U+200B"),
    # Python's lower() and PostgreSQL's lower() both turn U+212A KELVIN SIGN into "k".
    ("kelvin-sign", "\u212aate@acme.example", "U+212A"),
    # U+0430 CYRILLIC SMALL LETTER A: not NFKC-equal to "a"; only the script rule sees it.
    ("cyrillic-a", "k\u0430te@acme.example", "Cyrillic and Latin"),
]
IDS = [case[0] for case in LOOK_ALIKES]
