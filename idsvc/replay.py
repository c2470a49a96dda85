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

import msgspec

from idsvc.db import Connection, Pool

__all__ = ["ReplayScope", "SingleUse", "first_use", "purge_replay_guard", "remembered_cte"]

ReplayScope = Literal["dpop", "client_assertion"]


def remembered_cte(first: int) -> str:
    """``remembered AS (...)``: a row ``(fresh)`` the first time a value is seen, none for
    a replay; its parameters (scope, key hash, expiry, now) numbered from ``$first``, so a
    caller can make the check part of a statement it runs anyway (SingleUse.args).

    An expired row for the same value is taken over: the value may be used again only once
    its own validity (and so any replay of it) has ended anyway."""
    a, b, c, d = (f"${first + i}" for i in range(4))
    return f"""remembered AS (
    INSERT INTO replay_guard (scope, key_hash, expires_at) VALUES ({a}, {b}, {c})
    ON CONFLICT (scope, key_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at
    WHERE replay_guard.expires_at <= {d}
    RETURNING true AS fresh
)"""  # noqa: S608 (constant text and numbered placeholders)


_REMEMBER = f"WITH {remembered_cte(1)} SELECT fresh FROM remembered"  # noqa: S608 (constant)


class SingleUse(msgspec.Struct, frozen=True, kw_only=True):
    """A value to remember in a statement of the caller's (see remembered_cte)."""

    scope: ReplayScope
    key: str
    expires_at: datetime

    def args(self, now: datetime) -> tuple[str, bytes, datetime, datetime]:
        return (self.scope, hashlib.sha256(self.key.encode()).digest(), self.expires_at, now)


_PURGE = "DELETE FROM replay_guard WHERE expires_at <= $1"


async def first_use(
    pool: Pool, *, scope: ReplayScope, key: str, expires_at: datetime, now: datetime
) -> bool:
    """True the first time ``key`` is seen in ``scope`` before ``expires_at``; False for a
    replay, wherever the first use was."""
    use = SingleUse(scope=scope, key=key, expires_at=expires_at)
    async with pool.acquire() as conn:
        return bool(await conn.fetchval(_REMEMBER, *use.args(now)))


async def purge_replay_guard(conn: Connection, *, now: datetime) -> None:
    await conn.execute(_PURGE, now)
