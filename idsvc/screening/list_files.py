"""A screening list file in either form the Consolidated Screening List is published in."""

from __future__ import annotations

import msgspec

from idsvc.screening.csl import CslError, CslRow, parse_csl
from idsvc.screening.csl_json import parse_csl_json

__all__ = ["parse_list"]


def parse_list(data: bytes) -> list[CslRow]:
    """JSON when the file starts with ``{`` or ``[`` (after a BOM or blanks), CSV
    otherwise. Raises CslError saying what is wrong."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        rows = parse_csl_json(data)
    else:
        rows = parse_csl(data)
    for position, row in enumerate(rows, start=1):
        # PostgreSQL text cannot hold NUL; a list that has one is damaged, not a list.
        if any("\x00" in text for text in _texts(row)):
            raise CslError(f"entry {position}: contains a NUL character")
    return rows


def _texts(row: CslRow) -> list[str]:
    texts: list[str] = []
    for value in msgspec.structs.astuple(row):
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, tuple):
            texts.extend(v for v in value if isinstance(v, str))
    return texts
