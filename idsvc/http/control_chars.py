"""One rule for every text a client sends (JSON bodies, forms, query strings): no NUL and no
other control characters except tab, line feed and carriage return.

NUL cannot be stored in PostgreSQL text at all (it answered 500 wherever it reached a
query), and the other C0 controls in names, e-mails and labels are never legitimate: they
forge log lines and terminal output, and hide text from reviewers. Checked once at the edge
rather than per field, so a new field cannot forget it."""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "breaks_a_line",
    "control_character_at",
    "has_control_character",
    "query_has_control_character",
]

# C0 and C1 controls (but tab, LF, CR), DEL, and the bidirectional overrides and isolates
# that make a name display as something else (U+202A-202E, U+2066-2069). The marks
# U+200E/U+200F stay: right-to-left names legitimately carry them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Percent-encoded C0 controls other than %09, %0A, %0D, and DEL, in a raw query string.
_ENCODED_CONTROL = re.compile(rb"%(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])")


def has_control_character(text: str) -> bool:
    return _CONTROL.search(text) is not None


def breaks_a_line(text: str) -> bool:
    """For single-line values (SCIM attributes): the rule above, and no tab or line break."""
    return has_control_character(text) or any(c in text for c in "\t\n\r")


def control_character_at(value: Any, path: str = "") -> str | None:
    """The path (``contact_email``, ``emails[0]``) of the first string holding a control
    character in decoded JSON or form data, or None."""
    if isinstance(value, str):
        return path or "(body)" if has_control_character(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and has_control_character(key):
                return f"{path}.{key}" if path else key
            found = control_character_at(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = control_character_at(item, f"{path}[{index}]")
            if found:
                return found
    return None


def query_has_control_character(raw_query: bytes) -> bool:
    return bool(_ENCODED_CONTROL.search(raw_query)) or any(b < 0x20 or b == 0x7F for b in raw_query)
