"""Who is an operator: a user holding an identity named in ``operators``
(``provider:subject``), or a user granted the role at run time (``idsvc operators grant``).
Checked on every operator request, from the database, so removing someone from the
configuration takes effect at the next restart, and revoking a grant at the next request,
without stale caches."""

from __future__ import annotations

import uuid
from datetime import datetime

from idsvc.audit import record_event
from idsvc.audit.personal import for_person, seal, seal_text
from idsvc.db import Connection

__all__ = ["grant_operator", "is_operator", "revoke_operator"]

# One round trip whichever way the user is an operator.
_IS_OPERATOR = """
SELECT EXISTS (SELECT 1 FROM operator_grants WHERE user_id = $1)
    OR EXISTS (SELECT 1 FROM identities
               WHERE user_id = $1 AND provider || ':' || subject = ANY($2::text[]))
"""
_USER_EXISTS = "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)"
_GRANT = """
INSERT INTO operator_grants (user_id, reason, granted_by, granted_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id) DO NOTHING
RETURNING user_id
"""
_REVOKE = "DELETE FROM operator_grants WHERE user_id = $1 RETURNING user_id"


async def is_operator(conn: Connection, user_id: uuid.UUID, operators: tuple[str, ...]) -> bool:
    return bool(await conn.fetchval(_IS_OPERATOR, user_id, list(operators)))


async def grant_operator(
    conn: Connection, *, user_id: uuid.UUID, reason: str, actor: str, now: datetime
) -> bool:
    """Make ``user_id`` an operator; False when it already held a grant. LookupError when
    there is no such user, ValueError for a reason of the wrong length."""
    if not 3 <= len(reason) <= 500:
        raise ValueError("the reason takes 3 to 500 characters")
    if not await conn.fetchval(_USER_EXISTS, user_id):
        raise LookupError("no such user")
    # Why someone was made an operator is about them: sealed under their data key in the
    # grant and in the event alike, so that erasing them leaves it nowhere in clear.
    sealed = await seal(conn, for_person(user_id), reason, now=now)
    granted = await conn.fetchval(_GRANT, user_id, sealed, actor, now)
    if granted is None:
        return False
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="operator.granted",
        target=f"user:{user_id}",
        data={"reason": sealed},
    )
    return True


async def revoke_operator(
    conn: Connection, *, user_id: uuid.UUID, actor: str, now: datetime, reason: str | None = None
) -> bool:
    """End a run-time grant; False when there was none (an operator named in the
    configuration stays one until the configuration changes)."""
    if await conn.fetchval(_REVOKE, user_id) is None:
        return False
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="operator.revoked",
        target=f"user:{user_id}",
        data={"reason": await seal_text(conn, for_person(user_id), reason, now=now)},
    )
    return True
