"""Erasing a person (the right to erasure, where no retention duty holds any more): their
personal values go from every table, the data keys their values and the texts about them
were sealed under are destroyed — theirs and their memberships' (audit.personal) — so those
are unreadable for good, in the tables and in the audit trail alike; texts stored in clear
before sealing existed are overwritten; their tokens are revoked through the status list —
and the audit chain still verifies, because it hashed the sealed form.

What stays, by design: the account's id (the audit trail's events point at it), the fact
that attestations existed, of which kind and when (with their values replaced by
``erased``), memberships as removed rows, and the erasure's own event, which names no
personal value.

Refused, by design: erasing the last active admin who has signed in of an organisation
(``LastAdmin``, naming it). Their memberships are removed with them, so the organisation
would be left with nobody to run it — or with only an address nobody has claimed, which
whoever verifies it first would own. Another admin is appointed first, then the person
is erased.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from idsvc.accounts.addresses import fold_stored
from idsvc.audit import record_event
from idsvc.audit.personal import destroy_data_key, for_person
from idsvc.db import Connection
from idsvc.erasure.errors import AlreadyErased, LastAdmin, RetentionDuty, UnderLegalHold
from idsvc.errors import BadRequest, NotFound
from idsvc.four_eyes.service import FourEyes, Proposed, propose_or_approve
from idsvc.holds.service import ensure_not_held
from idsvc.orgs.members.last_admin import keep_an_admin
from idsvc.tokens.revocation import revoke_user_tokens

__all__ = [
    "ErasureReport",
    "LastAdmin",
    "RetentionDuty",
    "UnderLegalHold",
    "erase_by_operator",
    "erase_person",
]

_LOCK = "SELECT status FROM users WHERE id = $1 FOR UPDATE"
# Locked before their organisations (keep_an_admin), as every membership change does: the
# membership first, then the organisation, so an erasure and a role change cannot deadlock.
_MEMBERSHIPS = """
SELECT id FROM memberships WHERE user_id = $1 AND status <> 'removed' ORDER BY id FOR UPDATE
"""
# Every address the person was known by, gathered before any is removed: as stored and
# lower-cased (how earlier code keyed enrolments and contacts).
_ADDRESSES = """
SELECT email, lower(email) AS lowered FROM users WHERE id = $1 AND email IS NOT NULL
UNION SELECT email, lower(email) FROM identities WHERE user_id = $1 AND email IS NOT NULL
UNION SELECT email, email FROM memberships WHERE user_id = $1 AND email IS NOT NULL
"""
_LAST_ACTIVE = """
SELECT greatest(
    u.created_at,
    (SELECT max(i.last_login_at) FROM identities i WHERE i.user_id = u.id),
    (SELECT max(g.last_used_at) FROM oauth_grants g WHERE g.user_id = u.id))
FROM users u WHERE u.id = $1
"""
# Each statement returns how many rows it changed, for the erasure's own record, and names
# the parameters it takes, in order: of the person, the time, their addresses.
_STEPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("sessions", "DELETE FROM sessions WHERE user_id = $1", ("user",)),
    ("pending_links", "DELETE FROM pending_links WHERE user_id = $1", ("user",)),
    ("login_transactions", "DELETE FROM login_transactions WHERE link_user_id = $1", ("user",)),
    ("identities", "DELETE FROM identities WHERE user_id = $1", ("user",)),
    ("screened_names", "DELETE FROM screened_people WHERE user_id = $1", ("user",)),
    (
        # The matched listed name and the birth-date comparison would say who they were. A
        # justification sealed under their key is unreadable from now on; one written
        # before sealing (migration 0029: a JSON string) is overwritten.
        "screening_hits",
        "UPDATE person_screening_hits SET screened_name = '[erased]',"
        " matched_name = '[erased]', birthdate_match = 'unknown',"
        " justification = CASE WHEN jsonb_typeof(justification) = 'string'"
        " THEN to_jsonb('[erased]'::text) ELSE justification END WHERE user_id = $1",
        ("user",),
    ),
    (
        "attestations",
        "UPDATE attestations SET attested_values = '{erased}', evidence = '[]'::jsonb,"
        " inconsistency = NULL, revoked_at = coalesce(revoked_at, $2), revoked_by ="
        " coalesce(revoked_by, 'erasure'), revoked_reason = to_jsonb('erased'::text)"
        " WHERE user_id = $1",
        ("user", "now"),
    ),
    (
        # What admins wrote about their memberships (audit.personal) is sealed under each
        # membership's key: destroyed for every membership they held, and for enrolments
        # by their address they never claimed — before those lose the address below. A
        # membership that never had a key gets a destroyed one, so none is made later.
        "membership_keys",
        "INSERT INTO membership_data_keys (membership_id, wrapped_key, created_at, erased_at)"
        " SELECT id, NULL, $2, $2 FROM memberships"
        " WHERE user_id = $1 OR (user_id IS NULL AND email = ANY($3::text[]))"
        " ON CONFLICT (membership_id) DO UPDATE SET wrapped_key = NULL,"
        " erased_at = coalesce(membership_data_keys.erased_at, EXCLUDED.erased_at)",
        ("user", "now", "addresses"),
    ),
    (
        "memberships",
        "UPDATE memberships SET email = NULL, display_name = NULL, external_id = NULL,"
        " scim_attributes = NULL, status = 'removed', updated_at = $2 WHERE user_id = $1",
        ("user", "now"),
    ),
    (
        "grants",
        "UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, $2),"
        " revoked_reason = coalesce(revoked_reason, 'erased') WHERE user_id = $1",
        ("user", "now"),
    ),
    ("operator_grants", "DELETE FROM operator_grants WHERE user_id = $1", ("user",)),
    (
        # Enrolments by their address that they never claimed (CSV, SCIM, invitations).
        "unclaimed_memberships",
        "UPDATE memberships SET email = 'erased-' || id::text || '@erased.invalid',"
        " display_name = NULL, external_id = NULL, scim_attributes = NULL,"
        " status = 'removed', updated_at = $1"
        " WHERE user_id IS NULL AND email = ANY($2::text[])",
        ("now", "addresses"),
    ),
    (
        "organisation_contacts",
        "UPDATE organisations SET contact_email = 'erased@erased.invalid', updated_at = $1"
        " WHERE lower(contact_email) = ANY($2::text[])",
        ("now", "addresses"),
    ),
    (
        "account",
        "UPDATE users SET email = NULL, email_key = NULL, email_verified = false,"
        " display_name = NULL,"
        " status = 'erased', disabled_at = $2, disabled_reason = 'erased' WHERE id = $1",
        ("user", "now"),
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
    an operator who knows no such duty applies erases without it. The last admin of an
    organisation is refused (LastAdmin) until it has another."""
    await _ensure_erasable(conn, user_id, reason)
    if retention is not None and (kept_until := await _kept_until(conn, user_id, retention)) > now:
        raise _retention_duty(kept_until)
    return await _erase(conn, user_id=user_id, reason=reason, actor=actor, now=now)


async def _erase(
    conn: Connection, *, user_id: uuid.UUID, reason: str, actor: str, now: datetime
) -> ErasureReport:
    """The erasure itself, once ``_ensure_erasable`` and retention allow it."""
    # Enrolments are keyed by the folded form (idsvc.accounts.addresses): both are looked for.
    addresses = sorted(
        {a for r in await conn.fetch(_ADDRESSES, user_id) for a in (r[1], fold_stored(r[0]))}
    )
    tokens = await revoke_user_tokens(conn, user_id, actor=actor, reason="erased", now=now)
    await destroy_data_key(conn, user_id, now=now)
    changed = {}
    values: dict[str, object] = {"user": user_id, "now": now, "addresses": addresses}
    for name, statement, params in _STEPS:
        changed[name] = _count(await conn.execute(statement, *(values[p] for p in params)))
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="person.erased",
        target=f"user:{user_id}",
        data={"reason": reason, "tokens_revoked": tokens, "changed": changed},
    )
    return ErasureReport(user_id=user_id, tokens_revoked=tokens, changed=changed)


async def erase_by_operator(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    reason: str,
    actor: str,
    now: datetime,
    retention: timedelta | None,
    despite_retention: bool,
    rule: FourEyes,
) -> ErasureReport | Proposed:
    """An operator's erasure (console, command line). Within the retention period it is
    refused (``RetentionDuty``) unless the operator says no such duty applies; then a
    second operator must agree (four eyes under ``rule``): the first call returns the
    ``Proposed`` decision and erases nothing."""
    # Refused first: what no approval could make possible (a held person, a bad reason).
    await _ensure_erasable(conn, user_id, reason)
    if retention is not None and (kept_until := await _kept_until(conn, user_id, retention)) > now:
        if not despite_retention:
            raise _retention_duty(kept_until)
        decided = await propose_or_approve(
            conn, kind="erasure.despite_retention", target=f"user:{user_id}", actor=actor,
            now=now, rule=rule, owner=for_person(user_id), note=reason,
        )  # fmt: skip
        if isinstance(decided, Proposed):
            return decided
    return await _erase(conn, user_id=user_id, reason=reason, actor=actor, now=now)


async def _ensure_erasable(conn: Connection, user_id: uuid.UUID, reason: str) -> None:
    """Lock the person; refuse a bad reason, an unknown or erased person, held records, an
    organisation's last admin."""
    if "@" in reason or not 3 <= len(reason) <= 200:
        raise BadRequest("reason: 3 to 200 characters, without an e-mail address")
    status = await conn.fetchval(_LOCK, user_id)
    if status is None:
        raise NotFound("no such user")
    if status == "erased":
        raise AlreadyErased("this person was already erased")
    # 15 CFR 762.6(b): never while an investigation, a proceeding, an open screening hit or
    # a pending determination needs the records, whatever retention says.
    await ensure_not_held(conn, user_id)
    memberships = [r["id"] for r in await conn.fetch(_MEMBERSHIPS, user_id)]
    await keep_an_admin(conn, memberships)


def _retention_duty(kept_until: datetime) -> RetentionDuty:
    return RetentionDuty(
        f"their records are kept until {kept_until:%Y-%m-%d} (retention period after their "
        "last activity; 15 CFR 762.6); erase only if no such duty applies"
    )


async def _kept_until(conn: Connection, user_id: uuid.UUID, retention: timedelta) -> datetime:
    last_active: datetime = await conn.fetchval(_LAST_ACTIVE, user_id)
    return last_active + retention
