"""A screening list file in either form the Consolidated Screening List is published in."""

from __future__ import annotations

from idsvc.screening.csl import CslRow, parse_csl
from idsvc.screening.csl_json import parse_csl_json

__all__ = ["parse_list"]


def parse_list(data: bytes) -> list[CslRow]:
    """JSON when the file starts with ``{`` or ``[`` (after a BOM or blanks), CSV
    otherwise. Raises CslError saying what is wrong."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return parse_csl_json(data)
    return parse_csl(data)
