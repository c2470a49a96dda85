"""Erasing a person (the right to erasure, where no retention duty holds any more): their
personal values go from every table, the data key their audit values were sealed under is
destroyed (so those values are unreadable for good), their tokens are revoked through the
status list — and the audit chain still verifies, because it hashed the sealed form.

What stays, by design: the account's id (the audit trail's events point at it), the fact
that attestations existed, of which kind and when (with their values replaced by
``erased``), memberships as removed rows, and the erasure's own event, which names no
personal value.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from idsvc.audit import record_event
from idsvc.audit.personal import destroy_data_key
from idsvc.db import Connection
from idsvc.errors import BadRequest, Conflict, NotFound
from idsvc.tokens.revocation import revoke_user_tokens

__all__ = ["ErasureReport", "erase_person"]

_LOCK = "SELECT status FROM users WHERE id = $1 FOR UPDATE"
# Each statement returns how many rows it changed, for the erasure's own record.
_STEPS: tuple[tuple[str, str], ...] = (
    ("sessions", "DELETE FROM sessions WHERE user_id = $1"),
    ("pending_links", "DELETE FROM pending_links WHERE user_id = $1"),
    ("login_transactions", "DELETE FROM login_transactions WHERE link_user_id = $1"),
    ("identities", "DELETE FROM identities WHERE user_id = $1"),
    ("screened_names", "DELETE FROM screened_people WHERE user_id = $1"),
    (
        "screening_hits",
        "UPDATE person_screening_hits SET screened_name = '[erased]',"
        " justification = CASE WHEN justification IS NULL THEN NULL"
        " ELSE 'erased with the person: ' || id::text END WHERE user_id = $1",
    ),
    (
        "attestations",
        "UPDATE attestations SET attested_values = '{erased}', evidence = '[]'::jsonb,"
        " inconsistency = NULL, revoked_at = coalesce(revoked_at, $2), revoked_by ="
        " coalesce(revoked_by, 'erasure'), revoked_reason = 'erased' WHERE user_id = $1",
    ),
    (
        "memberships",
        "UPDATE memberships SET email = NULL, display_name = NULL, external_id = NULL,"
        " scim_attributes = NULL, status = 'removed', updated_at = $2 WHERE user_id = $1",
    ),
    (
        "grants",
        "UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, $2),"
        " revoked_reason = coalesce(revoked_reason, 'erased') WHERE user_id = $1",
    ),
    ("operator_grants", "DELETE FROM operator_grants WHERE user_id = $1"),
    (
        "account",
        "UPDATE users SET email = NULL, email_verified = false, display_name = NULL,"
        " status = 'erased', disabled_at = $2, disabled_reason = 'erased' WHERE id = $1",
    ),
)


class ErasureReport(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    tokens_revoked: int
    changed: dict[str, int]


def _count(status: str) -> int:
    # asyncpg's command tag: "UPDATE 3", "DELETE 0"
    return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0


async def erase_person(
    conn: Connection, *, user_id: uuid.UUID, reason: str, actor: str, now: datetime
) -> ErasureReport:
    """Run in one transaction. ``reason`` is recorded, so it must name no person: a case
    number, "retention period ended", "request of the person"."""
    if "@" in reason or not 3 <= len(reason) <= 200:
        raise BadRequest("reason: 3 to 200 characters, without an e-mail address")
    status = await conn.fetchval(_LOCK, user_id)
    if status is None:
        raise NotFound("no such user")
    if status == "erased":
        raise Conflict("this person was already erased", code="already_erased")
    tokens = await revoke_user_tokens(conn, user_id, actor=actor, reason="erased", now=now)
    await destroy_data_key(conn, user_id, now=now)
    changed = {}
    for name, statement in _STEPS:
        args = (user_id, now) if "$2" in statement else (user_id,)
        changed[name] = _count(await conn.execute(statement, *args))
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="person.erased",
        target=f"user:{user_id}",
        data={"reason": reason, "tokens_revoked": tokens, "changed": changed},
    )
    return ErasureReport(user_id=user_id, tokens_revoked=tokens, changed=changed)
