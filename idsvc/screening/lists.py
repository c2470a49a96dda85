"""Importing a screening list as a snapshot, and loading the newest one for matching."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from datetime import datetime

import msgspec

from idsvc.audit import record_event
from idsvc.db import Connection
from idsvc.screening.csl import CslRow
from idsvc.screening.matching import NameIndex
from idsvc.screening.names import normalize_name

__all__ = [
    "ListedName",
    "LoadedList",
    "Snapshot",
    "cached_newest_list",
    "import_snapshot",
    "is_party",
    "load_newest_list",
]


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    file_sha256: str
    entries: int
    names: int
    sources: dict[str, int]
    # Imported with --force although it was much shorter than the list before it.
    forced: bool = False


class ListedName(msgspec.Struct, frozen=True, kw_only=True):
    entry_id: uuid.UUID
    entry_key: str
    source: str
    name: str
    type: str | None = None
    dates_of_birth: tuple[str, ...] = ()

    @property
    def may_be_a_person(self) -> bool:
        """Individuals, and entries whose type the list does not say."""
        return self.type is None or self.type.strip().lower() == "individual"


class ListUnavailable(Exception):
    """The newest list could not be read whole; nobody may be screened against part of it."""


class LoadedList(msgspec.Struct, frozen=True, kw_only=True):
    """The newest snapshot's names, in the order of ``index``'s positions."""

    snapshot_id: uuid.UUID
    names: list[ListedName]
    index: NameIndex

    def entry_keys(self) -> list[str]:
        """Every entry on the list (a hit whose entry is not among them was delisted)."""
        return sorted({n.entry_key for n in self.names})


_INSERT_SNAPSHOT = """
INSERT INTO screening_snapshots (id, file_sha256, entries, names, sources, imported_by,
                                 imported_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
_INSERT_ENTRY = """
INSERT INTO screening_entries (id, snapshot_id, entry_key, source, entity_number, type, name,
                               alt_names, programs, addresses, source_list_url,
                               dates_of_birth, nationalities, citizenships, countries)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
"""
_INSERT_NAME = """
INSERT INTO screening_names (snapshot_id, entry_id, name, normalized) VALUES ($1, $2, $3, $4)
"""
# Only the newest snapshot is matched against; older snapshots keep their entries (the record
# behind past hits) but not their normalised names, which would only grow the table.
_DROP_OLDER_NAMES = "DELETE FROM screening_names WHERE snapshot_id <> $1"
_NEWEST = "SELECT id FROM screening_snapshots ORDER BY seq DESC LIMIT 1"
# The newest snapshot and its names in ONE statement: read in two, an import committing in
# between deletes the older snapshot's names (_DROP_OLDER_NAMES) and the second read finds
# none, and a re-screen against "no names" would clear every open hit (found in review).
_NEWEST_NAMES = """
WITH newest AS (SELECT id, names FROM screening_snapshots ORDER BY seq DESC LIMIT 1)
SELECT newest.id AS snapshot_id, newest.names AS expected, n.entry_id, e.entry_key, e.source,
       e.type, n.name, e.dates_of_birth
FROM newest
LEFT JOIN screening_names n ON n.snapshot_id = newest.id
LEFT JOIN screening_entries e ON e.id = n.entry_id
ORDER BY e.entry_key, n.name
"""
_NOT_PARTIES = frozenset({"vessel", "aircraft"})


def is_party(entry_type: str | None) -> bool:
    """Organisations are screened against parties, not against ships and aircraft: a
    vessel named ``Orient Pearl`` says nothing about the ``Orient Pearl Hotel Group``."""
    return entry_type is None or entry_type.strip().lower() not in _NOT_PARTIES


async def import_snapshot(
    conn: Connection,
    *,
    data: bytes,
    rows: list[CslRow],
    actor: str,
    now: datetime,
    forced: bool = False,
) -> Snapshot:
    """Store the parsed ``rows`` of the file ``data`` as the newest snapshot."""
    snapshot_id = uuid.uuid4()
    digest = hashlib.sha256(data).digest()
    entries, names = [], []
    for row in rows:
        entry_id = uuid.uuid4()
        entries.append(
            (
                entry_id,
                snapshot_id,
                row.entry_key,
                row.source,
                row.entity_number,
                row.type,
                row.name,
                list(row.alt_names),
                list(row.programs),
                row.addresses,
                row.source_list_url,
                list(row.dates_of_birth),
                list(row.nationalities),
                list(row.citizenships),
                list(row.countries),
            )
        )
        for name in dict.fromkeys((row.name, *row.alt_names)):
            if normalized := normalize_name(name):
                names.append((snapshot_id, entry_id, name, normalized))
    sources = dict(Counter(row.source for row in rows))
    await conn.execute(
        _INSERT_SNAPSHOT, snapshot_id, digest, len(entries), len(names), sources, actor, now
    )
    await conn.executemany(_INSERT_ENTRY, entries)
    await conn.executemany(_INSERT_NAME, names)
    await conn.execute(_DROP_OLDER_NAMES, snapshot_id)
    snapshot = Snapshot(
        id=snapshot_id,
        file_sha256=digest.hex(),
        entries=len(entries),
        names=len(names),
        sources=sources,
        forced=forced,
    )
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="screening.list.imported",
        target=f"screening-snapshot:{snapshot_id}",
        data=snapshot,
    )
    return snapshot


async def load_newest_list(conn: Connection) -> LoadedList | None:
    """None before any list was imported."""
    fetched = await conn.fetch(_NEWEST_NAMES)
    if not fetched:
        return None
    snapshot_id = fetched[0]["snapshot_id"]
    present = [r for r in fetched if r["entry_id"] is not None]
    if len(present) != fetched[0]["expected"]:
        # Never a partial view of a list: that would read as "nobody is listed any more".
        raise ListUnavailable(f"snapshot {snapshot_id} is not complete in this read")
    rows = [r for r in present if is_party(r["type"])]
    return LoadedList(
        snapshot_id=snapshot_id,
        names=[
            ListedName(
                entry_id=r["entry_id"],
                entry_key=r["entry_key"],
                source=r["source"],
                name=r["name"],
                type=r["type"],
                dates_of_birth=tuple(r["dates_of_birth"]),
            )
            for r in rows
        ],
        # Normalised now, from the names as listed: an improvement to normalisation (a new
        # script) reaches lists imported before it without a re-import.
        index=NameIndex([r["name"] for r in rows]),
    )


_cached: dict[uuid.UUID, LoadedList] = {}


async def cached_newest_list(conn: Connection) -> LoadedList | None:
    """The newest list, built once per snapshot in this process (sign-ins screen people
    against it; building the index for 30,000 entries takes far longer than one query)."""
    snapshot_id = await conn.fetchval(_NEWEST)
    if snapshot_id is None:
        return None
    if snapshot_id not in _cached:
        try:
            loaded = await load_newest_list(conn)
        except ListUnavailable:
            # An import committed between the two reads; it is whole now.
            loaded = await load_newest_list(conn)
        if loaded is None or loaded.snapshot_id != snapshot_id:
            return loaded
        _cached.clear()
        _cached[snapshot_id] = loaded
    return _cached[snapshot_id]
