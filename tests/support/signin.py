"""A signed-in caller for API tests whose subject is not sign-in itself: a user and a
session written to the database, and the cookie and CSRF header a browser would send."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from idsvc import db
from idsvc.accounts.sessions import SESSION_COOKIE, Session, create_session, csrf_token
from tests.support.factories import create_user

_SESSION = "SELECT * FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1"


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    cookies: dict[str, str]
    headers: dict[str, str]


async def signed_in(
    pool: db.Pool,
    now: datetime,
    *,
    email: str | None = None,
    subject: str | None = None,
    user_id: uuid.UUID | None = None,
) -> Caller:
    """Set ``cookies`` on the client (``client.cookies.update``) and pass ``headers`` on
    state-changing requests (they carry X-CSRF-Token)."""
    async with db.transaction(pool) as conn:
        if user_id is None:
            user_id = await create_user(conn, now, email=email, subject=subject)
        cookie = await create_session(conn, user_id=user_id, now=now, absolute_lifetime=86_400)
        row = await conn.fetchrow(_SESSION, user_id)
    session = msgspec.convert({k: row[k] for k in Session.__struct_fields__ if k in row}, Session)
    return Caller(
        user_id=user_id,
        cookies={SESSION_COOKIE: cookie},
        headers={"x-csrf-token": csrf_token(session)},
    )
