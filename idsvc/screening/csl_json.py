"""Reading a list in the Consolidated Screening List's JSON form (trade.gov's CSL API and
its downloadable ``consolidated.json``): ``{"results": [entry, ...]}`` or a bare array.

Each entry needs ``source`` and ``name`` like a CSV row; list-valued fields (``alt_names``,
``programs``, ``dates_of_birth``, ``nationalities``, ``citizenships``) may be arrays or
``"; "``-separated strings, and ``addresses`` an array of objects whose ``country`` is kept
apart for ranking hits. Anything else is ignored.
"""

from __future__ import annotations

from typing import Any

import msgspec

from idsvc.screening.csl import CslError, CslRow

__all__ = ["parse_csl_json"]

_MAX_ENTRIES = 500_000


def _text(value: Any, limit: int = 1000) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.strip()[:limit] or None


def _many(value: Any) -> tuple[str, ...]:
    items = value.split(";") if isinstance(value, str) else value
    if not isinstance(items, list):
        return ()
    seen: dict[str, None] = {}
    for item in items:
        if (text := _text(item)) is not None:
            seen[text] = None
    return tuple(seen)


def _addresses(value: Any) -> tuple[str | None, tuple[str, ...]]:
    if isinstance(value, str):
        return _text(value, 10_000), ()
    if not isinstance(value, list):
        return None, ()
    lines: list[str] = []
    countries: dict[str, None] = {}
    for item in value:
        if not isinstance(item, dict):
            continue
        parts = [_text(item.get(k)) for k in ("address", "city", "state", "postal_code")]
        country = _text(item.get("country"), 100)
        lines.append(", ".join(p for p in (*parts, country) if p))
        if country:
            countries[country] = None
    return "; ".join(line for line in lines if line)[:10_000] or None, tuple(countries)


def _row(position: int, entry: Any) -> CslRow:
    if not isinstance(entry, dict):
        raise CslError(f"entry {position}: not an object")
    source, name = _text(entry.get("source"), 300), _text(entry.get("name"))
    if source is None or name is None:
        raise CslError(f"entry {position}: an entry needs a source and a name")
    entry_id = _text(entry.get("id")) or _text(entry.get("_id"))
    entity_number = _text(entry.get("entity_number"))
    addresses, countries = _addresses(entry.get("addresses"))
    return CslRow(
        entry_key=f"{source}|{entry_id or entity_number or name}"[:1000],
        source=source,
        name=name,
        alt_names=_many(entry.get("alt_names")),
        programs=_many(entry.get("programs")),
        entity_number=entity_number,
        type=_text(entry.get("type"), 100),
        addresses=addresses,
        source_list_url=_text(entry.get("source_list_url")),
        dates_of_birth=_many(entry.get("dates_of_birth")),
        nationalities=_many(entry.get("nationalities")),
        citizenships=_many(entry.get("citizenships")),
        countries=countries,
    )


def parse_csl_json(data: bytes) -> list[CslRow]:
    try:
        document = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        raise CslError("not valid JSON") from None
    entries = document.get("results") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise CslError('expected {"results": [...]} or an array of entries')
    if len(entries) > _MAX_ENTRIES:
        raise CslError(f"more than {_MAX_ENTRIES} entries")
    return [_row(position, entry) for position, entry in enumerate(entries, start=1)]
