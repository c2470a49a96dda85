"""Reading a list in the Consolidated Screening List CSV format (trade.gov's CSL export).

Column order is not relied on and optional columns may be missing: lists are exported by
different tools over the years. ``source`` and ``name`` are required, since an entry
without them can neither be matched nor traced back. Multi-valued cells (``alt_names``,
``programs``) separate values with ``"; "``.
"""

from __future__ import annotations

import csv
import io

import msgspec

__all__ = ["CslError", "CslRow", "parse_csl"]

_REQUIRED = ("source", "name")
_MAX_FIELD = 100_000


class CslError(ValueError):
    """The file cannot be read as a screening list; the message says why."""


class CslRow(msgspec.Struct, frozen=True, kw_only=True):
    entry_key: str
    source: str
    name: str
    alt_names: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    entity_number: str | None = None
    type: str | None = None
    addresses: str | None = None
    source_list_url: str | None = None
    # Secondary fields, used to rank and explain hits (never to drop one).
    dates_of_birth: tuple[str, ...] = ()
    nationalities: tuple[str, ...] = ()
    citizenships: tuple[str, ...] = ()
    # Countries of the listed addresses, where the file gives them apart (the JSON form).
    countries: tuple[str, ...] = ()


def _multi(cell: str | None) -> tuple[str, ...]:
    if not cell:
        return ()
    seen: dict[str, None] = {}
    for part in cell.split(";"):
        if value := part.strip():
            seen[value] = None
    return tuple(seen)


def _optional(cell: str | None) -> str | None:
    return cell.strip() or None if cell else None


def parse_csl(data: bytes) -> list[CslRow]:
    """Every usable row; rows without a source or a name are an error naming the line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CslError(f"not UTF-8 text (byte {exc.start})") from None
    csv.field_size_limit(_MAX_FIELD)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        raise CslError("the file is empty")
    # Headers are matched case-insensitively and without surrounding spaces.
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    missing = [column for column in _REQUIRED if column not in reader.fieldnames]
    if missing:
        raise CslError(f"missing required column(s): {', '.join(missing)}")
    rows = []
    try:
        for record in reader:
            source = (record.get("source") or "").strip()
            name = (record.get("name") or "").strip()
            if not source or not name:
                raise CslError(f"line {reader.line_num}: an entry needs a source and a name")
            entry_id = _optional(record.get("_id"))
            entity_number = _optional(record.get("entity_number"))
            rows.append(
                CslRow(
                    entry_key=f"{source}|{entry_id or entity_number or name}"[:1000],
                    source=source[:300],
                    name=name[:1000],
                    alt_names=_multi(record.get("alt_names")),
                    programs=_multi(record.get("programs")),
                    entity_number=entity_number,
                    type=_optional(record.get("type")),
                    addresses=_optional(record.get("addresses")),
                    source_list_url=_optional(record.get("source_list_url")),
                    dates_of_birth=_multi(record.get("dates_of_birth")),
                    nationalities=_multi(record.get("nationalities")),
                    citizenships=_multi(record.get("citizenships")),
                )
            )
    except csv.Error as exc:
        raise CslError(f"line {reader.line_num}: {exc}") from None
    return rows
