"""Membership changes: enrol, change state, change role. Every change is audited in the
caller's transaction, and an organisation keeps an active admin who has signed in (the
last-admin rule, ``orgs.members.last_admin``).

States: ``invited``/``pending`` → ``active`` ⇄ ``suspended``; any → ``removed`` (final: a
removed person is enrolled again as a new membership, so history is never rewritten).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from idsvc.accounts.addresses import address_key
from idsvc.audit import record_event
from idsvc.audit.personal import for_membership, seal_text
from idsvc.db import Connection, row_to
from idsvc.errors import NotFound
from idsvc.orgs.members.errors import InvalidTransition, MemberExists
from idsvc.orgs.members.last_admin import keep_an_admin
from idsvc.orgs.records import MemberRole, Membership, MemberSource, MemberStatus
from idsvc.tokens.revocation import (
    reinstate_membership_tokens,
    revoke_membership_tokens,
    suspend_membership_tokens,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "enrol_member",
    "get_membership",
    "set_member_role",
    "set_member_status",
    "update_member_details",
]

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    "invited": frozenset({"active", "removed"}),
    "pending": frozenset({"active", "removed"}),
    "active": frozenset({"suspended", "removed"}),
    "suspended": frozenset({"active", "removed"}),
    "removed": frozenset(),
}

_INSERT = """
INSERT INTO memberships (id, org_id, user_id, email, role, status, source, external_id,
                         display_name, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
ON CONFLICT DO NOTHING
RETURNING id, org_id, user_id, email, role, status, source, external_id, display_name,
    created_at, updated_at
"""
_SELECT_FOR_UPDATE = """
SELECT id, org_id, user_id, email, role, status, source, external_id, display_name,
       created_at, updated_at
FROM memberships WHERE org_id = $1 AND id = $2 FOR UPDATE
"""
_UPDATE_STATUS = """
UPDATE memberships SET status = $3, updated_at = $4 WHERE org_id = $1 AND id = $2
RETURNING id, org_id, user_id, email, role, status, source, external_id, display_name,
    created_at, updated_at
"""
_UPDATE_ROLE = """
UPDATE memberships SET role = $3, updated_at = $4 WHERE org_id = $1 AND id = $2
RETURNING id, org_id, user_id, email, role, status, source, external_id, display_name,
    created_at, updated_at
"""


async def enrol_member(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    email: str | None,
    user_id: uuid.UUID | None,
    role: MemberRole,
    status: MemberStatus,
    source: MemberSource,
    actor: str,
    now: datetime,
    external_id: str | None = None,
    display_name: str | None = None,
) -> Membership:
    """Raises Conflict when the person already holds a membership that is not removed.
    ``email`` is stored as its key (:func:`idsvc.accounts.addresses.address_key`); callers
    check it where it entered, to name the field, so a refusal here is a bug."""
    if email is None and user_id is None and source != "scim":
        # Only an identity provider may enrol someone it gave no address (kept unclaimable).
        raise ValueError("a membership needs a user or an e-mail address")
    row = await conn.fetchrow(
        _INSERT,
        uuid.uuid4(),
        org_id,
        user_id,
        None if email is None else address_key(email),
        role,
        status,
        source,
        external_id,
        display_name,
        now,
    )
    membership = row_to(Membership, row)
    if membership is None:
        raise MemberExists("this person is already a member of the organisation")
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="org.member.enrolled",
        target=f"org:{org_id}",
        # The membership id, never the e-mail address: the audit trail holds no personal
        # data that a membership id cannot lead an operator to.
        data={"membership": str(membership.id), "role": role, "status": status, "source": source},
    )
    return membership


async def get_membership(
    conn: Connection, org_id: uuid.UUID, membership_id: uuid.UUID
) -> Membership:
    """Locked for the caller's transaction. A membership of another organisation is
    NotFound, exactly like one that does not exist."""
    membership = row_to(Membership, await conn.fetchrow(_SELECT_FOR_UPDATE, org_id, membership_id))
    if membership is None:
        raise NotFound("no such membership in this organisation")
    return membership


async def _keep_an_admin(conn: Connection, membership: Membership) -> None:
    # Only an active admin can be the last one, so other changes (most of them: members,
    # CSV rows) skip the organisation lock; whether this one counts is the rule's to say.
    if membership.role == "admin" and membership.status == "active":
        await keep_an_admin(conn, [membership.id])


async def _follow_with_tokens(
    conn: Connection, membership: Membership, *, previous: str, actor: str, now: datetime
) -> None:
    """Live tokens that relied on this membership follow it: suspended, invalid once
    removed, valid again when reinstated (docs/revocation.md)."""
    if membership.user_id is None:
        return  # never signed in: no token can exist
    args = (conn, membership.org_id, membership.user_id)
    reason = f"membership_{membership.status}"
    if membership.status == "suspended":
        await suspend_membership_tokens(*args, actor=actor, reason=reason, now=now)
    elif membership.status == "removed":
        await revoke_membership_tokens(*args, actor=actor, reason=reason, now=now)
    elif membership.status == "active" and previous == "suspended":
        await reinstate_membership_tokens(*args, actor=actor, reason=reason, now=now)


async def set_member_status(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    membership_id: uuid.UUID,
    status: MemberStatus,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> Membership:
    """Move a membership to ``status``; setting the state it already has changes nothing
    and is not audited, so retried requests and re-imports are idempotent."""
    membership = await get_membership(conn, org_id, membership_id)
    if membership.status == status:
        return membership
    if status not in ALLOWED_TRANSITIONS[membership.status]:
        raise InvalidTransition(f"a {membership.status} membership cannot become {status}")
    if status != "active":
        await _keep_an_admin(conn, membership)
    updated = row_to(
        Membership, await conn.fetchrow(_UPDATE_STATUS, org_id, membership_id, status, now)
    )
    assert updated is not None  # locked above
    await record_event(
        conn,
        at=now,
        actor=actor,
        action=f"org.member.{status}",
        target=f"org:{org_id}",
        # An admin's reason may name the member: sealed under the membership's data key,
        # which erasing the member destroys (audit.personal).
        data={
            "membership": str(membership_id),
            "from": membership.status,
            "reason": await seal_text(conn, for_membership(membership_id), reason, now=now),
        },
    )
    await _follow_with_tokens(conn, updated, previous=membership.status, actor=actor, now=now)
    return updated


async def set_member_role(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    membership_id: uuid.UUID,
    role: MemberRole,
    actor: str,
    now: datetime,
) -> Membership:
    membership = await get_membership(conn, org_id, membership_id)
    if membership.role == role:
        return membership
    if membership.status == "removed":
        raise InvalidTransition("a removed membership cannot change role")
    if role != "admin":
        await _keep_an_admin(conn, membership)
    updated = row_to(
        Membership, await conn.fetchrow(_UPDATE_ROLE, org_id, membership_id, role, now)
    )
    assert updated is not None
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="org.member.role_changed",
        target=f"org:{org_id}",
        data={"membership": str(membership_id), "from": membership.role, "to": role},
    )
    return updated


_UPDATE_DETAILS = """
UPDATE memberships
SET email = CASE WHEN user_id IS NOT NULL THEN email
                 -- only a membership a provider created may lose its address (see 0015)
                 WHEN $3::text IS NULL AND source <> 'scim' THEN email
                 ELSE $3 END,
    external_id = $4, display_name = $5, updated_at = $6
WHERE org_id = $1 AND id = $2
RETURNING id, org_id, user_id, email, role, status, source, external_id, display_name,
          created_at, updated_at
"""
_UPDATE_SCIM_ATTRIBUTES = """
UPDATE memberships SET scim_attributes = $3
WHERE org_id = $1 AND id = $2 AND scim_attributes IS DISTINCT FROM $3
RETURNING id
"""


async def update_member_details(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    membership_id: uuid.UUID,
    email: str | None,
    external_id: str | None,
    display_name: str | None,
    actor: str,
    now: datetime,
    scim_attributes: dict[str, Any] | None = None,
) -> Membership:
    """The e-mail changes only while nobody has claimed the membership: once a person has
    signed in, their account's verified address is the one that counts. It is stored as
    its key, as :func:`enrol_member` stores it. ``scim_attributes`` (SCIM only) replaces
    the attributes an identity provider sent, as sent."""
    current = await get_membership(conn, org_id, membership_id)
    if current.status == "removed":
        raise InvalidTransition("a removed membership cannot change")
    updated = row_to(
        Membership,
        await conn.fetchrow(
            _UPDATE_DETAILS,
            org_id,
            membership_id,
            None if email is None else address_key(email),
            external_id,
            display_name,
            now,
        ),
    )
    assert updated is not None  # locked by get_membership
    scim_changed = scim_attributes is not None and (
        await conn.fetchval(_UPDATE_SCIM_ATTRIBUTES, org_id, membership_id, scim_attributes)
        is not None
    )
    if scim_changed or (updated.email, updated.external_id, updated.display_name) != (
        current.email,
        current.external_id,
        current.display_name,
    ):
        await record_event(
            conn,
            at=now,
            actor=actor,
            action="org.member.updated",
            target=f"org:{org_id}",
            data={"membership": str(membership_id)},
        )
    return updated
