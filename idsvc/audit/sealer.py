"""The sealer: gives committed, unsealed events their chain position and hash.

Exactly one sealer runs at a time across all instances (a transaction-level advisory lock,
tried without waiting), so the chain has one writer while business transactions have
none. Events are chained in sequence order among those committed when the sealer looks;
an event whose transaction commits late is sealed in a later batch, so the chain follows
commit order, and no event can be skipped because the sealer only ever takes what it sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from idsvc.audit.chain import row_hash

if TYPE_CHECKING:
    from idsvc.db import Connection

__all__ = ["seal_pending"]

_SEALER_LOCK_KEY = 0x1D5C_0002

_LOCK_HEAD = "SELECT last_pos, last_hash FROM audit_chain WHERE id = 1 FOR UPDATE"
_SELECT_UNSEALED = """
SELECT seq, occurred_at, actor, action, target, data
FROM audit_events
WHERE hash IS NULL
ORDER BY seq
LIMIT $1
"""
_SEAL = """
UPDATE audit_events AS e
SET chain_pos = s.chain_pos, prev_hash = s.prev_hash, hash = s.hash
FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::bytea[], $5::bytea[])
     AS s(seq, occurred_at, chain_pos, prev_hash, hash)
WHERE e.seq = s.seq AND e.occurred_at = s.occurred_at AND e.hash IS NULL
"""
_MOVE_HEAD = "UPDATE audit_chain SET last_pos = $1, last_hash = $2 WHERE id = 1"


async def seal_pending(conn: Connection, *, batch_size: int = 5_000) -> int:
    """Seal up to ``batch_size`` events; return how many were sealed (0 if another sealer
    holds the lock). Runs its own transaction on ``conn``."""
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _SEALER_LOCK_KEY):
            return 0
        head = await conn.fetchrow(_LOCK_HEAD)
        assert head is not None  # the migration inserts the single head row
        pos: int = head["last_pos"]
        prev: bytes = head["last_hash"]
        rows = await conn.fetch(_SELECT_UNSEALED, batch_size)
        if not rows:
            return 0
        seqs, times, positions, prevs, hashes = [], [], [], [], []
        for row in rows:
            pos += 1
            digest = row_hash(prev, pos, row)
            seqs.append(row["seq"])
            times.append(row["occurred_at"])
            positions.append(pos)
            prevs.append(prev)
            hashes.append(digest)
            prev = digest
        await conn.execute(_SEAL, seqs, times, positions, prevs, hashes)
        await conn.execute(_MOVE_HEAD, pos, prev)
        return len(rows)
