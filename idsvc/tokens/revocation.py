"""Changing the status of every live token that depended on something, in the caller's
transaction, audited. INVALID is final; SUSPENDED returns to VALID when what was
suspended is reinstated — unless something else the token depends on is still suspended.

What a token depends on is recorded with its slot (see status_slots): its user, the
organisation its policy required (if any), the refresh-token grant it came from (if any)
and the key that signed it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from idsvc.audit import record_event
from idsvc.db import Connection
from idsvc.tokens.status_list import INVALID, SUSPENDED, VALID

__all__ = [
    "reinstate_membership_tokens",
    "reinstate_org_tokens",
    "revoke_grant_tokens",
    "revoke_key_tokens",
    "revoke_membership_tokens",
    "revoke_user_tokens",
    "suspend_membership_tokens",
    "suspend_org_tokens",
]

Status = Literal[0, 1, 2]
_NAMES = {VALID: "valid", INVALID: "invalid", SUSPENDED: "suspended"}
# Which statuses each new status may replace: INVALID is never undone.
_FROM = {INVALID: [VALID, SUSPENDED], SUSPENDED: [VALID], VALID: [SUSPENDED]}


def _changing(update: str) -> str:
    """One statement around an ``UPDATE token_statuses ... RETURNING list_id``: it also
    bumps the version of every list it touched (so the served lists are rebuilt) and
    notifies every instance (delivered at commit), in one round trip. Built at import from
    the constants below, never from input."""
    return f"""
WITH changed AS ({update}
), bumped AS (
    UPDATE status_lists SET version = version + 1 WHERE id IN (SELECT list_id FROM changed)
)
SELECT (SELECT count(*) FROM changed) AS changed, pg_notify('idsvc_status_lists', '')
"""  # noqa: S608


def _by(column: str) -> str:
    """The live tokens whose ``column`` is $1, from any of the statuses $4 to $2."""
    update = f"""
    UPDATE token_statuses SET status = $2
    WHERE {column} = $1 AND expires_at > $3 AND status = ANY($4::smallint[])
    RETURNING list_id"""  # noqa: S608
    return _changing(update)


_BY_USER = _by("user_id")
_BY_GRANT = _by("grant_id")
_BY_KID = _by("kid")
_BY_ORG = _by("org_id")
# Reinstating an organisation: not for members whose own membership is still suspended.
_ORG_VALID_AGAIN = _changing("""
    UPDATE token_statuses t SET status = 0
    WHERE t.org_id = $1 AND t.expires_at > $2 AND t.status = 2
      AND EXISTS (SELECT 1 FROM memberships m
                  WHERE m.org_id = t.org_id AND m.user_id = t.user_id AND m.status = 'active')
    RETURNING list_id""")
_BY_MEMBERSHIP = _changing("""
    UPDATE token_statuses SET status = $3
    WHERE org_id = $1 AND user_id = $2 AND expires_at > $4 AND status = ANY($5::smallint[])
    RETURNING list_id""")
# Reinstating a membership: not while the organisation itself is not approved.
_MEMBERSHIP_VALID_AGAIN = _changing("""
    UPDATE token_statuses t SET status = 0
    WHERE t.org_id = $1 AND t.user_id = $2 AND t.expires_at > $3 AND t.status = 2
      AND (SELECT o.status FROM organisations o WHERE o.id = t.org_id) = 'approved'
    RETURNING list_id""")


async def _audit(
    conn: Connection,
    changed: int,
    *,
    status: int,
    target: str,
    actor: str,
    reason: str,
    now: datetime,
) -> int:
    if changed:
        await record_event(
            conn,
            at=now,
            actor=actor,
            action=f"token.status.{_NAMES[status]}",
            target=target,
            data={"tokens": changed, "reason": reason},
        )
    return changed


# Taken before a change of a person's token statuses, so that an issuance of theirs under
# way (holding the row FOR SHARE, tokens.service) commits its slot first and the change
# finds it; an issuance starting meanwhile waits, then reads the facts after the change.
_LOCK_PERSON = "SELECT 1 FROM users WHERE id = $1 FOR UPDATE"
# The same for every member of an organisation, in one order (no deadlock between two).
_LOCK_MEMBERS = """
SELECT 1 FROM users
WHERE id IN (SELECT user_id FROM memberships WHERE org_id = $1 AND user_id IS NOT NULL)
ORDER BY id FOR UPDATE
"""


async def revoke_user_tokens(
    conn: Connection, user_id: uuid.UUID, *, actor: str, reason: str, now: datetime
) -> int:
    """An attestation revoked, the user disabled: every live token of the user."""
    await conn.execute(_LOCK_PERSON, user_id)
    changed = await conn.fetchval(_BY_USER, user_id, INVALID, now, _FROM[INVALID])
    return await _audit(
        conn, changed, status=INVALID, target=f"user:{user_id}", actor=actor, reason=reason, now=now
    )


async def revoke_grant_tokens(
    conn: Connection, grant_id: uuid.UUID, *, actor: str, reason: str, now: datetime
) -> int:
    changed = await conn.fetchval(_BY_GRANT, grant_id, INVALID, now, _FROM[INVALID])
    return await _audit(
        conn,
        changed,
        status=INVALID,
        target=f"grant:{grant_id}",
        actor=actor,
        reason=reason,
        now=now,
    )


async def revoke_key_tokens(
    conn: Connection, kid: str, *, actor: str, reason: str, now: datetime
) -> int:
    """An emergency rotation: every live token the compromised key signed."""
    changed = await conn.fetchval(_BY_KID, kid, INVALID, now, _FROM[INVALID])
    return await _audit(
        conn, changed, status=INVALID, target=f"key:{kid}", actor=actor, reason=reason, now=now
    )


async def suspend_org_tokens(
    conn: Connection, org_id: uuid.UUID, *, actor: str, reason: str, now: datetime
) -> int:
    await conn.execute(_LOCK_MEMBERS, org_id)
    changed = await conn.fetchval(_BY_ORG, org_id, SUSPENDED, now, _FROM[SUSPENDED])
    return await _audit(
        conn, changed, status=SUSPENDED, target=f"org:{org_id}", actor=actor, reason=reason, now=now
    )


async def reinstate_org_tokens(
    conn: Connection, org_id: uuid.UUID, *, actor: str, reason: str, now: datetime
) -> int:
    changed = await conn.fetchval(_ORG_VALID_AGAIN, org_id, now)
    return await _audit(
        conn, changed, status=VALID, target=f"org:{org_id}", actor=actor, reason=reason, now=now
    )


async def _membership(
    conn: Connection,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    status: int,
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> int:
    if status == VALID:
        changed = await conn.fetchval(_MEMBERSHIP_VALID_AGAIN, org_id, user_id, now)
    else:
        await conn.execute(_LOCK_PERSON, user_id)
        changed = await conn.fetchval(_BY_MEMBERSHIP, org_id, user_id, status, now, _FROM[status])
    return await _audit(
        conn, changed, status=status, target=f"org:{org_id}", actor=actor, reason=reason, now=now
    )


async def suspend_membership_tokens(
    conn: Connection,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> int:
    return await _membership(conn, org_id, user_id, SUSPENDED, actor=actor, reason=reason, now=now)


async def reinstate_membership_tokens(
    conn: Connection,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> int:
    return await _membership(conn, org_id, user_id, VALID, actor=actor, reason=reason, now=now)


async def revoke_membership_tokens(
    conn: Connection,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> int:
    return await _membership(conn, org_id, user_id, INVALID, actor=actor, reason=reason, now=now)
