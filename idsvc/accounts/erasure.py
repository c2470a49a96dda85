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

import re
import uuid
from datetime import datetime, timedelta

import msgspec

from idsvc.audit import record_event
from idsvc.audit.personal import destroy_data_key
from idsvc.db import Connection
from idsvc.errors import BadRequest, Conflict, NotFound
from idsvc.tokens.revocation import revoke_user_tokens

__all__ = ["ErasureReport", "RetentionDuty", "erase_person"]

_LOCK = "SELECT status FROM users WHERE id = $1 FOR UPDATE"
# Every address the person was known by, gathered before any is removed.
_ADDRESSES = """
SELECT lower(email) FROM users WHERE id = $1 AND email IS NOT NULL
UNION SELECT lower(email) FROM identities WHERE user_id = $1 AND email IS NOT NULL
UNION SELECT email FROM memberships WHERE user_id = $1 AND email IS NOT NULL
"""
_LAST_ACTIVE = """
SELECT greatest(
    u.created_at,
    (SELECT max(i.last_login_at) FROM identities i WHERE i.user_id = u.id),
    (SELECT max(g.last_used_at) FROM oauth_grants g WHERE g.user_id = u.id))
FROM users u WHERE u.id = $1
"""
# Each statement returns how many rows it changed, for the erasure's own record. They take
# $1 the person, $2 the time (when used), $3 their addresses (when used).
_STEPS: tuple[tuple[str, str], ...] = (
    ("sessions", "DELETE FROM sessions WHERE user_id = $1"),
    ("pending_links", "DELETE FROM pending_links WHERE user_id = $1"),
    ("login_transactions", "DELETE FROM login_transactions WHERE link_user_id = $1"),
    ("identities", "DELETE FROM identities WHERE user_id = $1"),
    ("screened_names", "DELETE FROM screened_people WHERE user_id = $1"),
    (
        # The matched listed name and the birth-date comparison would say who they were.
        "screening_hits",
        "UPDATE person_screening_hits SET screened_name = '[erased]',"
        " matched_name = '[erased]', birthdate_match = 'unknown',"
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
        # Enrolments by their address that they never claimed (CSV, SCIM, invitations).
        "unclaimed_memberships",
        "UPDATE memberships SET email = 'erased-' || id::text || '@erased.invalid',"
        " display_name = NULL, external_id = NULL, scim_attributes = NULL,"
        " status = 'removed', updated_at = $2"
        " WHERE user_id IS NULL AND email = ANY($3::text[])",
    ),
    (
        "organisation_contacts",
        "UPDATE organisations SET contact_email = 'erased@erased.invalid', updated_at = $2"
        " WHERE lower(contact_email) = ANY($3::text[])",
    ),
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


def _renumbered(statement: str, named: list[int]) -> str:
    """$n as the n-th of the parameters the statement names (asyncpg needs 1..k)."""
    mapping = {old: new for new, old in enumerate(named, start=1)}
    return re.sub(r"\$(\d)", lambda m: f"${mapping[int(m.group(1))]}", statement)


def _count(status: str) -> int:
    # asyncpg's command tag: "UPDATE 3", "DELETE 0"
    return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0


class RetentionDuty(Conflict):
    code = "retention_duty"


async def erase_person(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    reason: str,
    actor: str,
    now: datetime,
    retention: timedelta | None = None,
) -> ErasureReport:
    """Run in one transaction. ``reason`` is recorded, so it must name no person: a case
    number, "retention period ended", "request of the person". With ``retention``, a
    person active within it is refused (RetentionDuty): 15 CFR 762.6 keeps their records;
    an operator who knows no such duty applies erases without it."""
    if "@" in reason or not 3 <= len(reason) <= 200:
        raise BadRequest("reason: 3 to 200 characters, without an e-mail address")
    status = await conn.fetchval(_LOCK, user_id)
    if status is None:
        raise NotFound("no such user")
    if status == "erased":
        raise Conflict("this person was already erased", code="already_erased")
    if retention is not None:
        kept_until = await conn.fetchval(_LAST_ACTIVE, user_id) + retention
        if kept_until > now:
            raise RetentionDuty(
                f"their records are kept until {kept_until:%Y-%m-%d} (retention period after "
                "their last activity; 15 CFR 762.6); erase only if no such duty applies"
            )
    addresses = [r[0] for r in await conn.fetch(_ADDRESSES, user_id)]
    tokens = await revoke_user_tokens(conn, user_id, actor=actor, reason="erased", now=now)
    await destroy_data_key(conn, user_id, now=now)
    changed = {}
    for name, statement in _STEPS:
        # Only the parameters a statement names ($1 person, $2 time, $3 addresses).
        named = {int(n) for n in re.findall(r"\$(\d)", statement)}
        values = {1: user_id, 2: now, 3: addresses}
        args = tuple(values[n] for n in sorted(named))
        renumbered = _renumbered(statement, sorted(named))
        changed[name] = _count(await conn.execute(renumbered, *args))
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="person.erased",
        target=f"user:{user_id}",
        data={"reason": reason, "tokens_revoked": tokens, "changed": changed},
    )
    return ErasureReport(user_id=user_id, tokens_revoked=tokens, changed=changed)
