"""A small in-process rate limiter (fixed one-minute windows per key, bounded memory).

Per instance: with N instances the effective limit is N times the configured one, which
is acceptable for slowing down guessing and floods; a shared limiter belongs in front of
the service (the gateway) when exact global limits matter.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from idsvc.errors import RateLimited

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(
        self,
        *,
        per_minute: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = per_minute
        self._max_keys = max_keys
        self._clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, key: str) -> None:
        """Count one attempt for ``key``; raise RateLimited past the limit."""
        now = self._clock()
        window = int(now // 60)
        if window != self._window:
            self._window = window
            self._counts.clear()
        if key not in self._counts and len(self._counts) >= self._max_keys:
            # Under a flood of distinct keys, refuse rather than grow without bound.
            raise RateLimited("too many requests", retry_after=60 - int(now % 60))
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        if count > self._limit:
            raise RateLimited("too many attempts; wait a minute", retry_after=60 - int(now % 60))
