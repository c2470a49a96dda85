"""SCIM bearer tokens: created by an organisation's admin, shown once, stored hashed,
revocable, with the time of last use (recorded at most once a minute, so provisioning
bursts do not turn every request into a write)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from idsvc.audit import record_event
from idsvc.crypto.opaque import new_opaque, stored_hash
from idsvc.db import Connection, rows_to
from idsvc.errors import NotFound

__all__ = ["ScimToken", "authenticate", "create_token", "list_tokens", "revoke_token"]

PREFIX = "idsvc_scim_"


class ScimToken(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    label: str
    created_by: uuid.UUID | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


_INSERT = """
INSERT INTO scim_tokens (id, org_id, token_hash, label, created_by, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""
_LIST = """
SELECT id, label, created_by, created_at, last_used_at, revoked_at FROM scim_tokens
WHERE org_id = $1 ORDER BY created_at DESC
"""
_REVOKE = """
UPDATE scim_tokens SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL
RETURNING id
"""
_EXISTS = "SELECT revoked_at FROM scim_tokens WHERE org_id = $1 AND id = $2"
_AUTH = """
SELECT t.id, t.org_id, t.last_used_at FROM scim_tokens t
JOIN organisations o ON o.id = t.org_id
WHERE t.token_hash = $1 AND t.revoked_at IS NULL
"""
_TOUCH = "UPDATE scim_tokens SET last_used_at = $2 WHERE id = $1"


async def create_token(
    conn: Connection, *, org_id: uuid.UUID, label: str, created_by: uuid.UUID, now: datetime
) -> tuple[uuid.UUID, str]:
    token_id, token = uuid.uuid4(), new_opaque(PREFIX)
    await conn.execute(_INSERT, token_id, org_id, stored_hash(token), label, created_by, now)
    await record_event(
        conn,
        at=now,
        actor=f"user:{created_by}",
        action="scim.token.created",
        target=f"org:{org_id}",
        data={"token": str(token_id)},
    )
    return token_id, token


async def list_tokens(conn: Connection, org_id: uuid.UUID) -> list[ScimToken]:
    return rows_to(ScimToken, await conn.fetch(_LIST, org_id))


async def revoke_token(
    conn: Connection, *, org_id: uuid.UUID, token_id: uuid.UUID, actor: str, now: datetime
) -> None:
    if await conn.fetchval(_REVOKE, org_id, token_id, now) is None:
        if await conn.fetchrow(_EXISTS, org_id, token_id) is None:
            raise NotFound("no such SCIM token in this organisation")
        return  # already revoked: nothing to do, nothing to audit
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="scim.token.revoked",
        target=f"org:{org_id}",
        data={"token": str(token_id)},
    )


async def authenticate(
    conn: Connection, bearer: str, now: datetime
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(token id, organisation id) for a live token, else None."""
    if not bearer.startswith(PREFIX) or len(bearer) > 128:
        return None
    row = await conn.fetchrow(_AUTH, stored_hash(bearer))
    if row is None:
        return None
    if row["last_used_at"] is None or now - row["last_used_at"] > timedelta(minutes=1):
        await conn.execute(_TOUCH, row["id"], now)
    return row["id"], row["org_id"]
