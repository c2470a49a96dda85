"""Device authorization (RFC 8628): start, approve or deny in the browser, poll.

Polling answers are errors in OAuth terms (``authorization_pending`` ...), but a poll also
changes state (the poll time, for ``slow_down``), so :func:`poll` returns an outcome for
the caller to commit before it answers, instead of raising.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

import asyncpg
import msgspec

from idsvc.audit import record_event
from idsvc.config.oauth import OAuthSettings
from idsvc.crypto.opaque import new_opaque, new_user_code, normalize_user_code, stored_hash
from idsvc.db import Connection

__all__ = ["DeviceStart", "PollOutcome", "decide_device", "pending_device", "poll", "start_device"]

# RFC 8628 §3.5: each slow_down adds 5 seconds to the interval the client must keep.
_SLOW_DOWN_STEP = 5


class DeviceStart(msgspec.Struct, frozen=True, kw_only=True):
    device_code: str
    user_code: str
    expires_in: int
    interval: int

    @property
    def display_code(self) -> str:
        return f"{self.user_code[:4]}-{self.user_code[4:]}"


PollOutcome = Literal[
    "authorization_pending", "slow_down", "expired_token", "access_denied", "invalid_grant"
]

_INSERT = """
INSERT INTO device_authorizations (device_code_hash, user_code, client_id, poll_interval,
                                   created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""
_EXPIRE_STALE_CODE = """
UPDATE device_authorizations SET status = 'denied', decided_at = $2
WHERE user_code = $1 AND status = 'pending' AND expires_at <= $2
"""


async def start_device(
    conn: Connection, *, client_id: str, settings: OAuthSettings, now: datetime
) -> DeviceStart:
    device_code = new_opaque("idsvc_dc_")
    for _attempt in range(5):
        user_code = new_user_code()
        # A user code may be reused once its previous holder expired.
        await conn.execute(_EXPIRE_STALE_CODE, user_code, now)
        try:
            async with conn.transaction():
                await conn.execute(
                    _INSERT,
                    stored_hash(device_code),
                    user_code,
                    client_id,
                    settings.device_poll_interval,
                    now,
                    now + timedelta(seconds=settings.device_code_lifetime),
                )
        except asyncpg.UniqueViolationError:
            continue  # a live code collided: draw another
        await record_event(
            conn,
            at=now,
            actor=f"client:{client_id}",
            action="oauth.device.started",
            target=f"client:{client_id}",
        )
        return DeviceStart(
            device_code=device_code,
            user_code=user_code,
            expires_in=settings.device_code_lifetime,
            interval=settings.device_poll_interval,
        )
    raise RuntimeError("no free user code after 5 draws")


_PENDING = """
SELECT client_id FROM device_authorizations
WHERE user_code = $1 AND status = 'pending' AND expires_at > $2
FOR UPDATE
"""
_DECIDE = """
UPDATE device_authorizations SET status = $3, user_id = $4, decided_at = $2
WHERE user_code = $1 AND status = 'pending' AND expires_at > $2
"""


async def pending_device(conn: Connection, typed_code: str, now: datetime) -> str | None:
    """The client asking, for a code still waiting for a decision; None otherwise."""
    code = normalize_user_code(typed_code)
    if code is None:
        return None
    client: str | None = await conn.fetchval(_PENDING, code, now)
    return client


async def decide_device(
    conn: Connection, *, typed_code: str, user_id: uuid.UUID, approve: bool, now: datetime
) -> str | None:
    """Approve or deny; returns the client id, or None when the code is unknown, expired or
    already decided (so a code cannot be approved twice)."""
    code = normalize_user_code(typed_code)
    if code is None:
        return None
    client_id: str | None = await conn.fetchval(_PENDING, code, now)
    if client_id is None:
        return None
    status = "approved" if approve else "denied"
    await conn.execute(_DECIDE, code, now, status, user_id)
    await record_event(
        conn,
        at=now,
        actor=f"user:{user_id}",
        action=f"oauth.device.{status}",
        target=f"client:{client_id}",
    )
    return client_id


_FOR_POLL = """
SELECT client_id, status, user_id, poll_interval, last_polled_at, expires_at
FROM device_authorizations WHERE device_code_hash = $1
FOR UPDATE
"""
_TOUCH = """
UPDATE device_authorizations SET last_polled_at = $2, poll_interval = $3
WHERE device_code_hash = $1
"""
_CONSUME = "UPDATE device_authorizations SET status = 'consumed' WHERE device_code_hash = $1"


async def poll(
    conn: Connection, *, device_code: str, client_id: str, now: datetime
) -> uuid.UUID | PollOutcome:
    """The approving user (and the code is consumed), or what to tell the client."""
    key = stored_hash(device_code)
    row = await conn.fetchrow(_FOR_POLL, key)
    # A code of another client is unknown to this one.
    if row is None or row["client_id"] != client_id or row["status"] == "consumed":
        return "invalid_grant"
    if row["expires_at"] <= now:
        return "expired_token"
    interval = row["poll_interval"]
    last = row["last_polled_at"]
    if last is not None and now - last < timedelta(seconds=interval):
        await conn.execute(_TOUCH, key, now, min(interval + _SLOW_DOWN_STEP, 60))
        return "slow_down"
    await conn.execute(_TOUCH, key, now, interval)
    if row["status"] == "denied":
        return "access_denied"
    if row["status"] == "pending":
        return "authorization_pending"
    await conn.execute(_CONSUME, key)
    user_id: uuid.UUID = row["user_id"]
    return user_id
