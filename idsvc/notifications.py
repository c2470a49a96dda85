"""A LISTEN that survives its connection: re-subscribed whenever the connection is lost.

Notifications are an optimisation only (an instance learns at once that a status list or
a key changed). What the service publishes never depends on one arriving: the owners also
compare a version in the database on a schedule. But a listener that silently died would
turn "at once" into "at the next check" for ever, so each subscription is watched:
``check`` (run periodically) pings the connection and, when it is closed or does not
answer, opens a fresh one and subscribes again, then calls ``on_resubscribed`` so the
owner catches up on whatever it missed while nobody listened. A PostgreSQL restart or a
failover costs one check interval of latency, never correctness.

The connection is the subscription's own, not the pool's: the pool takes back a
connection that dies under a holder, which would leave the subscription holding nothing
it could even ask whether it is closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from idsvc.db import Connection

__all__ = ["Connect", "Subscription"]

Connect = Callable[[], Awaitable[Connection]]

_log = logging.getLogger("idsvc.notifications")
_PING_TIMEOUT = 2.0


class Subscription:
    def __init__(
        self,
        channel: str,
        on_notify: Callable[..., None],
        *,
        on_resubscribed: Callable[[], object] = lambda: None,
    ) -> None:
        self.channel = channel
        self._on_notify = on_notify
        self._on_resubscribed = on_resubscribed
        self._conn: Connection | None = None

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def start(self, connect: Connect) -> None:
        conn = await connect()
        try:
            await conn.add_listener(self.channel, self._on_notify)
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn

    async def check(self, connect: Connect) -> None:
        """Subscribe again if the connection is gone or silent (a periodic job)."""
        if self.listening:
            assert self._conn is not None
            try:
                await asyncio.wait_for(self._conn.fetchval("SELECT 1"), _PING_TIMEOUT)
                return
            except Exception:  # whatever the failure, the answer is to listen again
                _log.warning("listener connection lost", extra={"channel": self.channel})
        self._drop()
        await self.start(connect)
        _log.info("listening again", extra={"channel": self.channel})
        # Whatever was notified while nobody listened is lost: catch up now.
        self._on_resubscribed()

    async def stop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            await conn.close(timeout=5)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()  # no goodbye to a connection that no longer answers
