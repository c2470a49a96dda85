"""Periodic jobs inside the service process (audit sealing, partition upkeep, ...).

A failing job logs and retries on its next tick; it never takes the service down, and it
never spins: the interval is always waited.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from idsvc.db import is_database_outage

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = ["PeriodicJobs"]

_log = logging.getLogger("idsvc.background")


class PeriodicJobs:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, name: str, interval: float, job: Callable[[], Awaitable[object]]) -> None:
        self._tasks.append(asyncio.create_task(self._loop(name, interval, job), name=name))

    async def _loop(self, name: str, interval: float, job: Callable[[], Awaitable[object]]) -> None:
        while True:
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_database_outage(exc):
                    # Expected while PostgreSQL restarts or fails over; the next tick retries.
                    _log.warning("background job: database unavailable", extra={"job": name})
                else:
                    _log.exception("background job failed", extra={"job": name})
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
