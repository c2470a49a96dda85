"""Server-side browser sessions.

The cookie holds 32 random bytes; the database holds only their SHA-256, so a read of the
sessions table yields nothing usable. Each session has a CSRF secret; state-changing
browser requests must send ``X-CSRF-Token`` (or a form field) equal to an HMAC of it, which
a cross-site page cannot read. Sessions expire after idle and absolute lifetimes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

import msgspec

from idsvc.constant_time import same_secret
from idsvc.db import Connection

__all__ = [
    "SESSION_COOKIE",
    "Session",
    "create_session",
    "csrf_token",
    "end_session",
    "load_session",
    "session_cookie_name",
]

SESSION_COOKIE = "idsvc_session"


def session_cookie_name(secure: bool) -> str:
    """``__Host-`` on https: the browser then keeps the cookie only when this host set it,
    Secure, for Path=/ and without Domain, so a sibling subdomain (or a plain-http
    attacker) cannot plant its own session in a victim's browser. A planted session would
    otherwise make the victim's next sign-in a link to the attacker's account."""
    return f"__Host-{SESSION_COOKIE}" if secure else SESSION_COOKIE


class Session(msgspec.Struct, frozen=True, kw_only=True):
    id_hash: bytes
    user_id: uuid.UUID
    csrf_secret: bytes
    created_at: datetime
    expires_at: datetime


_INSERT = """
INSERT INTO sessions (id_hash, user_id, csrf_secret, created_at, last_seen_at, expires_at)
VALUES ($1, $2, $3, $4, $4, $5)
"""
# Idle timeout: last_seen_at must be recent. Use moves it, but at most once a minute, so
# that reading a session is not a write on every request.
_LOAD = """
SELECT id_hash, user_id, csrf_secret, created_at, expires_at,
       last_seen_at < $2::timestamptz - interval '60 seconds' AS stale
FROM sessions
WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > $2 AND last_seen_at > $2 - $3::interval
"""
_TOUCH = "UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1 AND last_seen_at < $2"
_END = "UPDATE sessions SET ended_at = $2 WHERE id_hash = $1 AND ended_at IS NULL"


def _hash(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()


async def create_session(
    conn: Connection, *, user_id: uuid.UUID, now: datetime, absolute_lifetime: int
) -> str:
    """A new session; returns the cookie value (shown to the browser only)."""
    session_id = secrets.token_urlsafe(32)
    await conn.execute(
        _INSERT,
        _hash(session_id),
        user_id,
        secrets.token_bytes(32),
        now,
        now + timedelta(seconds=absolute_lifetime),
    )
    return session_id


async def load_session(
    conn: Connection, session_id: str, *, now: datetime, idle_timeout: int
) -> Session | None:
    if not session_id or len(session_id) > 64:
        return None
    id_hash = _hash(session_id)
    row = await conn.fetchrow(_LOAD, id_hash, now, timedelta(seconds=idle_timeout))
    if row is None:
        return None
    if row["stale"]:
        await conn.execute(_TOUCH, id_hash, now)
    fields = {k: v for k, v in row.items() if k != "stale"}
    return msgspec.convert(fields, Session)


async def end_session(conn: Connection, session_id: str, *, now: datetime) -> None:
    await conn.execute(_END, _hash(session_id), now)


def csrf_token(session: Session) -> str:
    return hmac.new(session.csrf_secret, b"csrf", hashlib.sha256).hexdigest()


def csrf_valid(session: Session, presented: str | None) -> bool:
    return presented is not None and same_secret(presented, csrf_token(session))
