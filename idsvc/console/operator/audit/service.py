"""What the operator's audit pages read: a page of events with personal values opened
(and the reading audited), and every event of a filter in batches for the export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import msgspec

from idsvc.audit import record_events
from idsvc.audit.events import AuditEvent
from idsvc.audit.personal import open_sealed, sealed_people
from idsvc.console.audit_query import AuditFilter, find_events
from idsvc.db import Connection
from idsvc.db.database import Database

__all__ = ["export_lines", "read_events"]

_EXPORT_BATCH = 1000


async def read_events(
    conn: Connection, query: AuditFilter, *, limit: int, now: datetime, actor: str
) -> tuple[list[AuditEvent], bool]:
    """Up to ``limit`` events, newest first, and whether more follow."""
    events = await find_events(conn, query, limit=limit + 1)
    more = len(events) > limit
    events = events[:limit]
    people = sorted(set().union(*(sealed_people(e.data) for e in events)) if events else [])
    # Operators read personal values sealed under a person's data key (an erased person's
    # read "[erased]"); like every operator read of a person's attestations, the read is
    # audited, without the values. (Exports keep the sealed form.)
    events = [msgspec.structs.replace(e, data=await open_sealed(conn, e.data)) for e in events]
    if people:
        await record_events(
            conn,
            at=now,
            actor=actor,
            action="person.attestations.viewed",
            events=[(f"user:{person}", {"via": "audit trail"}) for person in people],
        )
    return events, more


async def export_lines(database: Database, query: AuditFilter) -> AsyncIterator[bytes]:
    """The filtered events as JSON lines, every page of them, oldest last. Each batch takes
    a connection of its own: the lines are streamed after the request's transaction ended,
    and no connection is held while the client reads slowly."""
    cursor = query
    while True:
        async with database.connection() as conn:
            events = await find_events(conn, cursor, limit=_EXPORT_BATCH)
        for event in events:
            yield msgspec.json.encode(event) + b"\n"
        if len(events) < _EXPORT_BATCH:
            return
        cursor = msgspec.structs.replace(cursor, before=events[-1].seq)
