"""Organisations from request to vetting: a verified user requests one and becomes its
admin; operators approve, reject, suspend and reinstate it and grant its programs.

Every status change goes through :func:`set_org_status`, the one place where an
organisation's standing changes, so whatever must follow such a change (revoking the
tokens of a suspended organisation's members) hooks in there.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from idsvc.audit import record_event
from idsvc.audit.personal import for_org, row_opened, rows_opened, seal, seal_text
from idsvc.db import Connection, rows_to
from idsvc.errors import NotFound
from idsvc.four_eyes.service import FourEyes, Kind, Proposed, propose_or_approve
from idsvc.orgs.members.service import enrol_member
from idsvc.orgs.records import MemberRole, MemberStatus, Organisation, OrgStatus
from idsvc.orgs.vetting.errors import FourEyesRequired, InvalidTransition, NotVerified, ScreeningHit
from idsvc.screening.freshness import ensure_list_current
from idsvc.tokens.revocation import reinstate_org_tokens, suspend_org_tokens

__all__ = [
    "ORG_TRANSITIONS",
    "OrgSummary",
    "create_organisation",
    "get_organisation",
    "is_verified_user",
    "list_organisations",
    "list_user_organisations",
    "set_org_programs",
    "set_org_status",
]

ORG_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"approved", "rejected"}),
    "approved": frozenset({"suspended"}),
    "suspended": frozenset({"approved"}),
    "rejected": frozenset(),
}

# Verified: holds an attestation that is current (not superseded), unrevoked and unexpired.
_VERIFIED = """
SELECT EXISTS (SELECT 1 FROM attestations
               WHERE user_id = $1 AND superseded_by IS NULL AND revoked_at IS NULL
                 AND expires_at > $2)
"""
_INSERT = """
INSERT INTO organisations (id, legal_name, country, registration_ids, contact_email, status,
                           programs_requested, requested_by, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $8)
RETURNING id, legal_name, country, registration_ids, contact_email, status, status_reason,
    programs_requested, programs, auto_join, requested_by, created_at, updated_at
"""
_SELECT = """
SELECT id, legal_name, country, registration_ids, contact_email, status, status_reason,
    programs_requested, programs, auto_join, requested_by, created_at, updated_at
FROM organisations WHERE id = $1
"""
_SELECT_FOR_UPDATE = """
SELECT id, legal_name, country, registration_ids, contact_email, status, status_reason,
    programs_requested, programs, auto_join, requested_by, created_at, updated_at
FROM organisations WHERE id = $1 FOR UPDATE
"""
_USER_ORGS = """
SELECT o.id, o.legal_name, o.country, o.status, o.programs, m.role, m.status AS member_status
FROM memberships m JOIN organisations o ON o.id = m.org_id
WHERE m.user_id = $1 AND m.status <> 'removed'
ORDER BY o.created_at, o.id
"""
_BY_STATUS = """
SELECT id, legal_name, country, registration_ids, contact_email, status, status_reason,
    programs_requested, programs, auto_join, requested_by, created_at, updated_at
FROM organisations WHERE ($1::text IS NULL OR status = $1)
ORDER BY created_at, id
LIMIT $2
"""
_OVERRIDDEN_BY = """
SELECT count(*) FROM screening_hits WHERE org_id = $1 AND state = 'overridden' AND decided_by = $2
"""
# Who may take no part in deciding on the organisation: its requester and its admins.
_STAKEHOLDERS = """
SELECT requested_by AS user_id, 'requested this organisation' AS stake
FROM organisations WHERE id = $1 AND requested_by IS NOT NULL
UNION ALL
SELECT user_id, 'administer this organisation' FROM memberships
WHERE org_id = $1 AND role = 'admin' AND status <> 'removed' AND user_id IS NOT NULL
"""
_OPEN_HITS = "SELECT count(*) FROM screening_hits WHERE org_id = $1 AND state = 'open'"
_UPDATE_STATUS = """
UPDATE organisations SET status = $2, status_reason = $3, updated_at = $4 WHERE id = $1
RETURNING id, legal_name, country, registration_ids, contact_email, status, status_reason,
    programs_requested, programs, auto_join, requested_by, created_at, updated_at
"""
_UPDATE_PROGRAMS = """
UPDATE organisations SET programs = $2, updated_at = $3 WHERE id = $1
RETURNING id, legal_name, country, registration_ids, contact_email, status, status_reason,
    programs_requested, programs, auto_join, requested_by, created_at, updated_at
"""


class OrgSummary(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation as one of its members sees it in their list."""

    id: uuid.UUID
    legal_name: str
    country: str
    status: OrgStatus
    programs: list[str]
    role: MemberRole
    member_status: MemberStatus


# An operator's status reason may name people: stored sealed under the organisation's data
# key (audit.personal), opened whenever an organisation is read.
_TEXTS = ("status_reason",)


async def is_verified_user(conn: Connection, user_id: uuid.UUID, now: datetime) -> bool:
    return bool(await conn.fetchval(_VERIFIED, user_id, now))


async def create_organisation(
    conn: Connection,
    *,
    legal_name: str,
    country: str,
    registration_ids: list[dict[str, str]],
    contact_email: str,
    programs_requested: list[str],
    requester: uuid.UUID,
    now: datetime,
) -> Organisation:
    """A pending organisation with the requester as its active admin. Only verified users
    may request one: an organisation's first admin vouches for it."""
    if not await is_verified_user(conn, requester, now):
        raise NotVerified("verify your identity before requesting an organisation")
    org = await row_opened(
        conn,
        Organisation,
        await conn.fetchrow(
            _INSERT,
            uuid.uuid4(),
            legal_name,
            country,
            registration_ids,
            contact_email,
            programs_requested,
            requester,
            now,
        ),
        texts=_TEXTS,
    )
    assert org is not None
    actor = f"user:{requester}"
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="org.requested",
        target=f"org:{org.id}",
        # Ids and codes only: the contact address is personal data.
        data={"country": country, "programs_requested": programs_requested},
    )
    await enrol_member(
        conn,
        org_id=org.id,
        email=None,
        user_id=requester,
        role="admin",
        status="active",
        source="request",
        actor=actor,
        now=now,
    )
    return org


async def get_organisation(conn: Connection, org_id: uuid.UUID) -> Organisation:
    org = await row_opened(conn, Organisation, await conn.fetchrow(_SELECT, org_id), texts=_TEXTS)
    if org is None:
        raise NotFound("no such organisation")
    return org


async def list_user_organisations(conn: Connection, user_id: uuid.UUID) -> list[OrgSummary]:
    return rows_to(OrgSummary, await conn.fetch(_USER_ORGS, user_id))


async def list_organisations(
    conn: Connection, *, status: OrgStatus | None, limit: int
) -> list[Organisation]:
    return await rows_opened(
        conn, Organisation, await conn.fetch(_BY_STATUS, status, limit), texts=_TEXTS
    )


async def set_org_status(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    status: OrgStatus,
    reason: str,
    actor: str,
    now: datetime,
    four_eyes: bool,
    rule: FourEyes,
    list_max_age: timedelta | None,
) -> Organisation | Proposed:
    """Move the organisation to ``status`` along :data:`ORG_TRANSITIONS`. Approval needs
    every screening hit decided: an open hit is a 409 ``screening_hit``; with ``four_eyes``,
    an approver who overrode one of its hits is a 409 ``four_eyes_required``; with
    ``list_max_age``, a missing or older list is a 409 ``screening_list_stale``. Approval
    (and reinstatement) takes a second operator under ``rule``, neither of them the
    requester or an admin: the first call returns the ``Proposed`` decision."""
    org = await row_opened(
        conn, Organisation, await conn.fetchrow(_SELECT_FOR_UPDATE, org_id), texts=_TEXTS
    )
    if org is None:
        raise NotFound("no such organisation")
    if status not in ORG_TRANSITIONS[org.status]:
        raise InvalidTransition(f"a {org.status} organisation cannot become {status}")
    if status == "approved":
        if list_max_age is not None:
            await ensure_list_current(conn, max_age=list_max_age, now=now)
        open_hits = await conn.fetchval(_OPEN_HITS, org_id)
        if open_hits:
            raise ScreeningHit(
                f"{open_hits} open restricted-party screening hit(s): clear or override "
                "them before approving",
                open_hits=open_hits,
            )
        if four_eyes and await conn.fetchval(_OVERRIDDEN_BY, org_id, actor):
            raise FourEyesRequired(
                "you overrode a screening hit of this organisation: another operator must "
                "approve it (four eyes)"
            )
        decided = await _second_operator(
            conn, "org.approve", org_id, {"status": status}, reason, actor=actor, now=now,
            rule=rule,
        )  # fmt: skip
        if decided is not None:
            return decided
    sealed = await seal(conn, for_org(org_id), reason, now=now)
    updated = await row_opened(
        conn,
        Organisation,
        await conn.fetchrow(_UPDATE_STATUS, org_id, status, sealed, now),
        texts=_TEXTS,
    )
    assert updated is not None  # locked above
    await record_event(
        conn,
        at=now,
        actor=actor,
        action=f"org.status.{status}",
        target=f"org:{org_id}",
        data={"from": org.status, "to": status, "reason": sealed},
    )
    # Live tokens that relied on the organisation follow it (docs/revocation.md).
    if status == "suspended":
        await suspend_org_tokens(conn, org_id, actor=actor, reason="org_suspended", now=now)
    elif status == "approved" and org.status == "suspended":
        await reinstate_org_tokens(conn, org_id, actor=actor, reason="org_reinstated", now=now)
    return updated


async def set_org_programs(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    programs: list[str],
    reason: str | None,
    actor: str,
    now: datetime,
    rule: FourEyes,
    list_max_age: timedelta | None,
) -> Organisation | Proposed:
    """Set the programs granted. Granting a new one needs a current list (like approval)
    and a second operator under ``rule``, neither of them the requester or an admin (the
    first call returns the ``Proposed`` decision); taking programs away needs neither."""
    org = await row_opened(
        conn, Organisation, await conn.fetchrow(_SELECT_FOR_UPDATE, org_id), texts=_TEXTS
    )
    if org is None:
        raise NotFound("no such organisation")
    wanted = sorted(set(programs))
    if sorted(org.programs) == wanted:
        return org
    if set(wanted) - set(org.programs):
        if list_max_age is not None:
            await ensure_list_current(conn, max_age=list_max_age, now=now)
        decided = await _second_operator(
            conn, "org.programs.grant", org_id, {"programs": wanted}, reason, actor=actor,
            now=now, rule=rule,
        )  # fmt: skip
        if decided is not None:
            return decided
    updated = await row_opened(
        conn, Organisation, await conn.fetchrow(_UPDATE_PROGRAMS, org_id, wanted, now), texts=_TEXTS
    )
    assert updated is not None
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="org.programs.changed",
        target=f"org:{org_id}",
        data={
            "from": sorted(org.programs),
            "to": wanted,
            "reason": await seal_text(conn, for_org(org_id), reason, now=now),
        },
    )
    return updated


async def _second_operator(
    conn: Connection,
    kind: Kind,
    org_id: uuid.UUID,
    terms: dict[str, object],
    note: str | None,
    *,
    actor: str,
    now: datetime,
    rule: FourEyes,
) -> Proposed | None:
    """Four eyes on a decision about the organisation, its requester and admins taking no
    part: the ``Proposed`` decision, or None when the caller decides now."""
    stakeholders = {
        f"user:{r['user_id']}": r["stake"] for r in await conn.fetch(_STAKEHOLDERS, org_id)
    }
    decided = await propose_or_approve(
        conn, kind=kind, target=f"org:{org_id}", actor=actor, now=now, rule=rule,
        owner=for_org(org_id), terms=terms, note=note, conflicted=stakeholders,
    )  # fmt: skip
    return decided if isinstance(decided, Proposed) else None
