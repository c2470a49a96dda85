"""Invitations: an invited membership plus a single-use, expiring code sent by e-mail.

Accepting needs the invitee to be signed in with an identity whose provider verified the
invited address: a forwarded e-mail alone does not make its reader a member. A refused
acceptance (wrong address) does not use the code up.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from idsvc.accounts.addresses import address_key, address_key_or_none
from idsvc.audit import record_event
from idsvc.crypto.opaque import new_opaque, stored_hash
from idsvc.db import Connection
from idsvc.errors import NotFound
from idsvc.orgs.invitations.errors import InvitationInvalid, InvitationWrongAccount, MemberExists
from idsvc.orgs.members.service import enrol_member, get_membership, set_member_status
from idsvc.orgs.records import MemberRole
from idsvc.orgs.state_rules import ensure_org_may

__all__ = [
    "Invitation",
    "accept_invitation",
    "invite",
    "renew_code",
    "revoke_invitation",
    "view_invitation",
]

PREFIX = "idsvc_inv_"


class Invitation(msgspec.Struct, frozen=True, kw_only=True):
    membership_id: uuid.UUID
    org_id: uuid.UUID
    org_name: str
    email: str
    expires_at: datetime


_INSERT = """
INSERT INTO invitations (membership_id, org_id, code_hash, created_by, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""
# By key (idsvc.accounts.addresses): the enrolment's, or for a member enrolled by account,
# the account's (users.email_key, migration 0025).
_MEMBER_BY_ADDRESS = """
SELECT EXISTS (SELECT 1 FROM memberships m LEFT JOIN users u ON u.id = m.user_id
               WHERE m.org_id = $1 AND m.status <> 'removed'
                 AND coalesce(m.email, u.email_key) = $2)
"""
_NEW_CODE = """
UPDATE invitations SET code_hash = $3, expires_at = $4, sent_at = NULL
WHERE org_id = $1 AND membership_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL
RETURNING membership_id
"""
_SENT = "UPDATE invitations SET sent_at = $2 WHERE membership_id = $1"
_BY_CODE = """
SELECT i.membership_id, i.org_id, o.legal_name AS org_name, m.email, i.expires_at,
       i.accepted_at, i.revoked_at
FROM invitations i JOIN memberships m ON m.id = i.membership_id
JOIN organisations o ON o.id = i.org_id
WHERE i.code_hash = $1
FOR UPDATE OF i
"""
# Compared by key in Python: identities keep the address as the provider sent it.
_VERIFIED_ADDRESSES = """
SELECT email FROM identities WHERE user_id = $1 AND email_verified AND email IS NOT NULL
"""
_ALREADY_MEMBER = """
SELECT EXISTS (SELECT 1 FROM memberships
               WHERE org_id = $1 AND user_id = $2 AND status <> 'removed')
"""
_CLAIM = "UPDATE memberships SET user_id = $2, updated_at = $3 WHERE id = $1"
_ACCEPTED = "UPDATE invitations SET accepted_at = $2 WHERE membership_id = $1"
_REVOKE = """
UPDATE invitations SET revoked_at = $3
WHERE org_id = $1 AND membership_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL
RETURNING membership_id
"""


_ORG_STATUS = "SELECT status FROM organisations WHERE id = $1 FOR SHARE"


async def invite(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    email: str,
    role: MemberRole,
    invited_by: uuid.UUID,
    lifetime: int,
    now: datetime,
) -> tuple[uuid.UUID, str]:
    """(membership id, code); raises Conflict if the address is already a member. The
    caller checked the address (``address_key``) where it entered, naming the field."""
    # A member enrolled by account has no e-mail on the membership: match their account's.
    if await conn.fetchval(_MEMBER_BY_ADDRESS, org_id, address_key(email)):
        raise MemberExists("this address is already a member of the organisation")
    membership = await enrol_member(
        conn,
        org_id=org_id,
        email=email,
        user_id=None,
        role=role,
        status="invited",
        source="invitation",
        actor=f"user:{invited_by}",
        now=now,
    )
    code = new_opaque(PREFIX)
    expires = now + timedelta(seconds=lifetime)
    await conn.execute(_INSERT, membership.id, org_id, stored_hash(code), invited_by, now, expires)
    return membership.id, code


async def renew_code(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    membership_id: uuid.UUID,
    lifetime: int,
    actor: str,
    now: datetime,
) -> tuple[str, str]:
    """A new code (the old one stops working), for resending; returns (code, address)."""
    code = new_opaque(PREFIX)
    renewed = await conn.fetchval(
        _NEW_CODE, org_id, membership_id, stored_hash(code), now + timedelta(seconds=lifetime)
    )
    if renewed is None:
        raise NotFound("no open invitation for that membership in this organisation")
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="org.invitation.renewed",
        target=f"org:{org_id}",
        data={"membership": str(membership_id)},
    )
    membership = await get_membership(conn, org_id, membership_id)
    assert membership.email is not None
    return code, membership.email


async def mark_sent(conn: Connection, membership_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(_SENT, membership_id, now)


async def view_invitation(conn: Connection, code: str, now: datetime) -> Invitation | None:
    """The open invitation behind a code, or None (unknown, used, revoked or expired)."""
    if not code.startswith(PREFIX) or len(code) > 128:
        return None
    row = await conn.fetchrow(_BY_CODE, stored_hash(code))
    if row is None or row["accepted_at"] or row["revoked_at"] or row["expires_at"] <= now:
        return None
    return Invitation(
        membership_id=row["membership_id"],
        org_id=row["org_id"],
        org_name=row["org_name"],
        email=row["email"],
        expires_at=row["expires_at"],
    )


async def accept_invitation(
    conn: Connection, *, code: str, user_id: uuid.UUID, now: datetime
) -> Invitation:
    invitation = await view_invitation(conn, code, now)
    if invitation is None:
        raise InvitationInvalid("this invitation is unknown, expired, already used or withdrawn")
    # An address stored before the checks, that they would refuse now, has no key (None)
    # and matches nothing: an identity's old "<U+212A>ate@" never accepts kate's invitation.
    invited = address_key_or_none(invitation.email)
    verified = [
        address_key_or_none(row["email"]) for row in await conn.fetch(_VERIFIED_ADDRESSES, user_id)
    ]
    if invited is None or invited not in verified:
        # Not consumed: the invitee can still sign in with the right account and accept.
        raise InvitationWrongAccount(
            "sign in with an account whose provider verified the invited e-mail address"
        )
    # Accepting enrolls: only an approved organisation's invitation can be accepted.
    ensure_org_may(await conn.fetchval(_ORG_STATUS, invitation.org_id), "enroll")
    if await conn.fetchval(_ALREADY_MEMBER, invitation.org_id, user_id):
        raise MemberExists("you are already a member of this organisation")
    await conn.execute(_CLAIM, invitation.membership_id, user_id, now)
    await conn.execute(_ACCEPTED, invitation.membership_id, now)
    await set_member_status(
        conn,
        org_id=invitation.org_id,
        membership_id=invitation.membership_id,
        status="active",
        actor=f"user:{user_id}",
        now=now,
        reason="invitation accepted",
    )
    return invitation


async def revoke_invitation(
    conn: Connection, *, org_id: uuid.UUID, membership_id: uuid.UUID, actor: str, now: datetime
) -> None:
    if await conn.fetchval(_REVOKE, org_id, membership_id, now) is None:
        raise NotFound("no open invitation for that membership in this organisation")
    await set_member_status(
        conn,
        org_id=org_id,
        membership_id=membership_id,
        status="removed",
        actor=actor,
        now=now,
        reason="invitation withdrawn",
    )
