"""SQL for signing keys. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime

import msgspec

from idsvc.db import Connection, rows_to
from idsvc.keys.material import Algorithm
from idsvc.keys.schedule import KeyState, KeyTimes

__all__ = [
    "StoredKey",
    "insert_key",
    "lock_keys",
    "mark_announced",
    "notify_key_change",
    "reschedule_key",
    "revoke_key",
    "select_keys",
    "select_live_keys",
]


class StoredKey(msgspec.Struct, frozen=True, kw_only=True):
    kid: str
    alg: Algorithm
    public_jwk: dict[str, object]
    private_key_enc: bytes
    kek_id: str
    published_at: datetime
    activates_at: datetime
    retires_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    announced_state: KeyState

    @property
    def times(self) -> KeyTimes:
        return KeyTimes(
            kid=self.kid,
            published_at=self.published_at,
            activates_at=self.activates_at,
            retires_at=self.retires_at,
            expires_at=self.expires_at,
            revoked_at=self.revoked_at,
        )


_COLUMNS = """kid, alg, public_jwk, private_key_enc, kek_id, published_at, activates_at,
    retires_at, expires_at, revoked_at, revoked_reason, announced_state"""

_SELECT_ALL = f"SELECT {_COLUMNS} FROM signing_keys ORDER BY activates_at"  # noqa: S608 (constant)
# Keys that may still verify or sign: not revoked and not past expiry.
_SELECT_LIVE = f"""
SELECT {_COLUMNS} FROM signing_keys
WHERE revoked_at IS NULL AND expires_at > $1
ORDER BY activates_at
"""  # noqa: S608 (constant)
_INSERT = """
INSERT INTO signing_keys (kid, alg, public_jwk, private_key_enc, kek_id, published_at,
                          activates_at, retires_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
_RESCHEDULE = """
UPDATE signing_keys SET activates_at = $2, retires_at = $3, expires_at = $4
WHERE kid = $1 AND revoked_at IS NULL
"""
_REVOKE = """
UPDATE signing_keys SET revoked_at = $2, revoked_reason = $3, announced_state = 'retired'
WHERE kid = $1 AND revoked_at IS NULL
"""
_MARK_ANNOUNCED = "UPDATE signing_keys SET announced_state = $2 WHERE kid = $1"
# Serialises rotations across instances for the rest of the transaction.
_LOCK = "SELECT pg_advisory_xact_lock(487245002)"
_NOTIFY = "SELECT pg_notify('idsvc_keys', $1)"


async def select_keys(conn: Connection) -> list[StoredKey]:
    return rows_to(StoredKey, await conn.fetch(_SELECT_ALL))


async def select_live_keys(conn: Connection, now: datetime) -> list[StoredKey]:
    return rows_to(StoredKey, await conn.fetch(_SELECT_LIVE, now))


async def lock_keys(conn: Connection) -> None:
    await conn.execute(_LOCK)


async def insert_key(
    conn: Connection,
    *,
    kid: str,
    alg: str,
    public_jwk: dict[str, object],
    private_key_enc: bytes,
    kek_id: str,
    times: KeyTimes,
) -> None:
    await conn.execute(
        _INSERT,
        kid,
        alg,
        public_jwk,
        private_key_enc,
        kek_id,
        times.published_at,
        times.activates_at,
        times.retires_at,
        times.expires_at,
    )


async def reschedule_key(conn: Connection, times: KeyTimes) -> None:
    await conn.execute(
        _RESCHEDULE, times.kid, times.activates_at, times.retires_at, times.expires_at
    )


async def revoke_key(conn: Connection, kid: str, *, at: datetime, reason: str) -> None:
    await conn.execute(_REVOKE, kid, at, reason)


async def mark_announced(conn: Connection, kid: str, state: KeyState) -> None:
    await conn.execute(_MARK_ANNOUNCED, kid, state)


async def notify_key_change(conn: Connection) -> None:
    """Tell every instance's key ring to reload (delivered at commit)."""
    await conn.execute(_NOTIFY, "changed")
