"""Rate limits that hold across every instance: fixed one-minute windows per key, counted
in PostgreSQL (``rate_counters``), so N instances allow N attempts a minute in all, not N
each.

Each instance keeps its own count of the current window too. Once that count alone is past
the limit the attempt is refused without asking the database (the shared count can only be
higher), so a flood at one instance costs no round trips; below it, one upsert returns the
count across all instances. Expired windows are deleted by the upkeep job.

Large budgets are leased: an instance counts up to ``lease`` attempts in one upsert and
spends them locally, so a busy client or person costs one round trip per ``lease``
attempts rather than one each (the token endpoint's hot path). The price is precision: an
instance may hold up to ``lease - 1`` counted but unused attempts, so all instances
together may refuse that much early. Budgets under 200 a minute lease one: exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from idsvc.db import Connection, Pool
from idsvc.errors import RateLimited

__all__ = ["RateLimiter", "purge_rate_counters"]

_COUNT = """
INSERT INTO rate_counters (bucket, window_min, hits) VALUES ($1, $2, $3)
ON CONFLICT (bucket, window_min) DO UPDATE SET hits = rate_counters.hits + $3
RETURNING hits
"""
_MAX_LEASE = 32
_PURGE = "DELETE FROM rate_counters WHERE window_min < $1"


class RateLimiter:
    def __init__(
        self,
        *,
        scope: str,
        per_minute: int,
        pool: Callable[[], Pool],
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scope = scope
        self._limit = per_minute
        self._pool = pool
        self._max_keys = max_keys
        self._clock = clock
        self._window = -1
        self._local: dict[str, int] = {}
        # A hundredth of the budget, at most _MAX_LEASE: the most a lease can cost.
        self._lease = max(1, min(_MAX_LEASE, per_minute // 100))
        self._leased: dict[str, int] = {}  # counted in the shared window, not yet spent

    async def hit(self, key: str, *, conn: Connection | None = None) -> None:
        """Count one attempt for ``key``; raise RateLimited past the limit. Pass ``conn``
        when the caller already holds a connection (inside a transaction): taking a second
        one from the pool there could starve the pool under load."""
        now = self._clock()
        window = int(now // 60)
        retry_after = 60 - int(now % 60)
        if window != self._window:
            self._window = window
            self._local.clear()
            self._leased.clear()
        if key not in self._local and len(self._local) >= self._max_keys:
            # Under a flood of distinct keys, refuse rather than grow without bound.
            raise RateLimited("too many requests", retry_after=retry_after)
        local = self._local.get(key, 0) + 1
        self._local[key] = local
        if local > self._limit:
            raise RateLimited("too many attempts; wait a minute", retry_after=retry_after)
        unspent = self._leased.get(key, 0)
        if unspent > 0:
            self._leased[key] = unspent - 1
            return
        bucket = f"{self._scope}:{key}"
        lease = self._lease
        if conn is not None:
            shared: int = await conn.fetchval(_COUNT, bucket, window, lease)
        else:
            async with self._pool().acquire() as own:
                shared = await own.fetchval(_COUNT, bucket, window, lease)
        before = shared - lease  # attempts counted across instances before this lease
        if before >= self._limit:
            raise RateLimited("too many attempts; wait a minute", retry_after=retry_after)
        if window == self._window:
            # This attempt takes one; the rest of what fits under the limit is spent
            # locally (not if the window turned during the upsert: it was counted in the
            # old one). Inside a caller's transaction that later rolls back, the lease
            # stays spendable here uncounted in the database: at most lease - 1 attempts
            # per rollback that other instances do not see.
            self._leased[key] = min(lease, self._limit - before) - 1


async def purge_rate_counters(conn: Connection, *, now: datetime) -> None:
    # Windows are minute numbers since the epoch; keep the last two.
    await conn.execute(_PURGE, int(now.timestamp() // 60) - 2)
