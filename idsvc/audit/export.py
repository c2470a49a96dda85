"""Exporting events as JSON lines, for SIEMs and for auditors' own verification."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import msgspec

from idsvc.audit.events import AuditEvent
from idsvc.db import Connection, row_to

__all__ = ["export_events"]

_SELECT_SINCE = """
SELECT seq, occurred_at, actor, action, target, data, chain_pos, prev_hash, hash
FROM audit_events
WHERE occurred_at >= $1
ORDER BY chain_pos NULLS LAST, seq
"""

_encoder = msgspec.json.Encoder()


async def export_events(conn: Connection, *, since: datetime) -> AsyncIterator[bytes]:
    """Yield one JSON line per event from ``since``, in chain order (unsealed last).

    Hashes are hex so a reader can recompute the chain with docs/audit.md alone. Must be
    iterated inside a transaction (cursors need one).
    """
    async for row in conn.cursor(_SELECT_SINCE, since, prefetch=2_000):
        event = row_to(AuditEvent, row)
        assert event is not None
        line = msgspec.structs.asdict(event)
        for key in ("prev_hash", "hash"):
            value = line[key]
            line[key] = value.hex() if isinstance(value, bytes) else None
        yield _encoder.encode(line) + b"\n"
