"""Rate limits that hold across every instance: fixed one-minute windows per key, counted
in PostgreSQL (``rate_counters``), so N instances allow N attempts a minute in all, not N
each.

Each instance keeps its own count of the current window too. Once that count alone is past
the limit the attempt is refused without asking the database (the shared count can only be
higher), so a flood at one instance costs no round trips; below it, one upsert per attempt
returns the count across all instances. Expired windows are deleted by the upkeep job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from idsvc.db import Connection, Pool
from idsvc.errors import RateLimited

__all__ = ["RateLimiter", "purge_rate_counters"]

_COUNT = """
INSERT INTO rate_counters (bucket, window_min, hits) VALUES ($1, $2, 1)
ON CONFLICT (bucket, window_min) DO UPDATE SET hits = rate_counters.hits + 1
RETURNING hits
"""
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
        if key not in self._local and len(self._local) >= self._max_keys:
            # Under a flood of distinct keys, refuse rather than grow without bound.
            raise RateLimited("too many requests", retry_after=retry_after)
        local = self._local.get(key, 0) + 1
        self._local[key] = local
        if local > self._limit:
            raise RateLimited("too many attempts; wait a minute", retry_after=retry_after)
        bucket = f"{self._scope}:{key}"
        if conn is not None:
            shared: int = await conn.fetchval(_COUNT, bucket, window)
        else:
            async with self._pool().acquire() as own:
                shared = await own.fetchval(_COUNT, bucket, window)
        if shared > self._limit:
            raise RateLimited("too many attempts; wait a minute", retry_after=retry_after)


async def purge_rate_counters(conn: Connection, *, now: datetime) -> None:
    # Windows are minute numbers since the epoch; keep the last two.
    await conn.execute(_PURGE, int(now.timestamp() // 60) - 2)
