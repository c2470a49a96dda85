"""Users and identities. An identity is (provider, subject); accounts are never linked by
e-mail address alone: a second identity joins a user only while that user is signed in."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from idsvc.accounts.addresses import address_key_or_none
from idsvc.audit import record_event
from idsvc.db import Connection, row_to

__all__ = ["User", "get_user", "sign_in_identity"]


class User(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: str
    email: str | None
    email_verified: bool
    display_name: str | None


# Sign-ins of one identity run one at a time: the first sign-in of a new identity is a
# check-then-insert, and two at once (a double click, two tabs) would both insert. The
# second waits here, then finds the identity the first created. Two-key form, its own
# class, so it can never collide with the service's single-key advisory locks.
_SERIALISE = "SELECT pg_advisory_xact_lock(4871, hashtext($1 || '/' || $2))"
_FIND_IDENTITY = """
SELECT u.id, u.status, u.email, u.email_verified, u.display_name
FROM identities i JOIN users u ON u.id = i.user_id
WHERE i.provider = $1 AND i.subject = $2
FOR UPDATE OF i
"""
_TOUCH_IDENTITY = """
UPDATE identities SET last_login_at = $3, email = $4, email_verified = $5
WHERE provider = $1 AND subject = $2
"""
# email_key: the comparison key of the address (migration 0025), None for none.
_INSERT_USER = """
INSERT INTO users (id, email, email_verified, display_name, created_at, email_key)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, status, email, email_verified, display_name
"""
_SELECT_USER = "SELECT id, status, email, email_verified, display_name FROM users WHERE id = $1"
_INSERT_IDENTITY = """
INSERT INTO identities (provider, subject, user_id, email, email_verified, linked_at, last_login_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
"""


async def get_user(conn: Connection, user_id: uuid.UUID) -> User | None:
    return row_to(User, await conn.fetchrow(_SELECT_USER, user_id))


async def sign_in_identity(
    conn: Connection,
    *,
    provider: str,
    subject: str,
    email: str | None,
    email_verified: bool,
    display_name: str | None,
    link_to: uuid.UUID | None,
    now: datetime,
) -> tuple[User, bool]:
    """The user behind (provider, subject), created on first sign-in or linked to the
    signed-in user ``link_to``. Returns the user and whether the identity is new. Call it
    in a transaction (the lock it takes lasts until commit)."""
    await conn.execute(_SERIALISE, provider, subject)
    row = await conn.fetchrow(_FIND_IDENTITY, provider, subject)
    if row is not None:
        user = row_to(User, row)
        assert user is not None
        if link_to is not None and user.id != link_to:
            # The identity already belongs to someone else: never move it silently.
            raise IdentityInUse("that identity is linked to another account")
        await conn.execute(_TOUCH_IDENTITY, provider, subject, now, email, email_verified)
        return user, False
    if link_to is not None:
        row = await conn.fetchrow(_SELECT_USER, link_to)
        assert row is not None
        action = "identity.linked"
    else:
        row = await conn.fetchrow(
            _INSERT_USER,
            uuid.uuid4(),
            email,
            email_verified,
            display_name,
            now,
            address_key_or_none(email),
        )
        action = "user.created"
    assert row is not None
    user = row_to(User, row)
    assert user is not None
    await conn.execute(_INSERT_IDENTITY, provider, subject, user.id, email, email_verified, now)
    await record_event(
        conn,
        at=now,
        actor=f"user:{user.id}",
        action=action,
        target=f"user:{user.id}",
        data={"provider": provider},
    )
    return user, True


class IdentityInUse(Exception):
    """The identity being linked already belongs to another user."""
