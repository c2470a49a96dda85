"""The key service of one running instance: rotation job, key ring reloads, NOTIFY.

Start-up makes sure keys exist before the first request, so a fresh service signs at once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from idsvc.background import PeriodicJobs
from idsvc.clock import Clock
from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.db import Pool
from idsvc.keys.ring import KeyRing
from idsvc.keys.rotation import ensure_keys
from idsvc.keys.schedule import RotationPolicy
from idsvc.keys.service_secrets import PAIRWISE_SUBJECT_KEY, service_secret
from idsvc.notifications import Subscription
from idsvc.settings import KeySettings
from idsvc.verify.claims import MAX_TOKEN_LIFETIME

__all__ = ["KeyService", "rotation_policy"]

_log = logging.getLogger("idsvc.keys")
# Fallback when a NOTIFY was missed (listener connection lost): reload this often.
_RELOAD_INTERVAL = 10.0


def rotation_policy(settings: KeySettings) -> RotationPolicy:
    return RotationPolicy(
        rotation_interval=timedelta(seconds=settings.rotation_interval),
        publish_ahead=timedelta(seconds=settings.publish_ahead),
        verify_window=timedelta(seconds=MAX_TOKEN_LIFETIME + settings.clock_skew),
    )


class KeyService:
    def __init__(self, settings: KeySettings, kek: KeyEncryptionKey, clock: Clock) -> None:
        self.settings = settings
        self.kek = kek
        self.clock = clock
        self.policy = rotation_policy(settings)
        self.ring = KeyRing(kek)
        self.pairwise_key = b""
        # Resubscribed after a lost connection, then reloaded: a rotation announced while
        # nobody listened is picked up at once, not only at the periodic reload.
        self.subscription = Subscription(
            "idsvc_keys", self._on_change, on_resubscribed=self._on_change
        )
        self._reloads: set[asyncio.Task[None]] = set()
        self._pool: Pool | None = None

    async def start(self, pool: Pool, jobs: PeriodicJobs) -> None:
        await self.rotate_if_due(pool)
        async with pool.acquire() as conn, conn.transaction():
            self.pairwise_key = await service_secret(
                conn, PAIRWISE_SUBJECT_KEY, kek=self.kek, now=self.clock()
            )
        await self.reload(pool)
        self._pool = pool
        jobs.start(
            "key-rotation", self.settings.rotation_check_interval, lambda: self.rotate_if_due(pool)
        )
        jobs.start("key-ring-reload", _RELOAD_INTERVAL, lambda: self.reload(pool))

    async def rotate_if_due(self, pool: Pool) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await ensure_keys(
                conn,
                algorithms=self.settings.algorithms,
                now=self.clock(),
                policy=self.policy,
                kek=self.kek,
            )

    async def reload(self, pool: Pool) -> None:
        async with pool.acquire() as conn:
            await self.ring.reload(conn, self.clock())

    def _on_change(self, *_: object) -> None:
        # Another instance (or `idsvc keys rotate`) changed the keys: reload now rather
        # than at the next periodic tick, so an emergency rotation stops signing at once.
        assert self._pool is not None
        task = asyncio.get_running_loop().create_task(self.reload(self._pool))
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)
