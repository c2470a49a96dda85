"""Remembering single-use values across every instance sharing the database.

A DPoP proof and a ``private_key_jwt`` client assertion may each be used once. Each
instance refuses a replay to itself from memory (fast, and without the database); this
store refuses a replay to any other instance. One statement: the insert wins, or finds the
value already there and unexpired. Values are stored as SHA-256 hashes (a proof id says
nothing, but there is no reason to keep it).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from idsvc.db import Connection, Pool

__all__ = ["ReplayScope", "first_use", "purge_replay_guard"]

ReplayScope = Literal["dpop", "client_assertion"]

# An expired row for the same value is taken over: the value may be used again only once
# its own validity (and so any replay of it) has ended anyway.
_REMEMBER = """
INSERT INTO replay_guard (scope, key_hash, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (scope, key_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at
WHERE replay_guard.expires_at <= $4
RETURNING true
"""
_PURGE = "DELETE FROM replay_guard WHERE expires_at <= $1"


async def first_use(
    pool: Pool, *, scope: ReplayScope, key: str, expires_at: datetime, now: datetime
) -> bool:
    """True the first time ``key`` is seen in ``scope`` before ``expires_at``; False for a
    replay, wherever the first use was."""
    digest = hashlib.sha256(key.encode()).digest()
    async with pool.acquire() as conn:
        return bool(await conn.fetchval(_REMEMBER, scope, digest, expires_at, now))


async def purge_replay_guard(conn: Connection, *, now: datetime) -> None:
    await conn.execute(_PURGE, now)
