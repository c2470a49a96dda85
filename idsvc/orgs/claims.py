"""A person claims the memberships their organisation enrolled by e-mail (CSV rows, SCIM
users) by signing in with a provider that verifies that same address. Invitations are not
claimed this way: they carry their own single-use code."""

from __future__ import annotations

import uuid
from datetime import datetime

from idsvc.accounts.addresses import address_key_or_none
from idsvc.audit import record_event
from idsvc.db import Connection

__all__ = ["claim_memberships"]

# A person already holding a membership of the organisation by account keeps that one.
# Claiming completes an enrolment, so only an approved organisation's memberships are
# claimed (orgs.state_rules); the others wait for the next sign-in after approval.
_CLAIM = """
UPDATE memberships m SET user_id = $1, updated_at = $3
FROM organisations o
WHERE o.id = m.org_id AND o.status = 'approved'
  AND m.email = $2 AND m.user_id IS NULL AND m.source IN ('csv', 'scim')
  AND m.status IN ('active', 'pending', 'suspended')
  AND NOT EXISTS (SELECT 1 FROM memberships other
                  WHERE other.org_id = m.org_id AND other.user_id = $1
                    AND other.status <> 'removed')
RETURNING m.id, m.org_id
"""


async def claim_memberships(
    conn: Connection, *, user_id: uuid.UUID, email: str, now: datetime
) -> int:
    """Call only with an address the provider marked verified. Enrolments are matched by
    the address's key; an address not in plain form claims nothing."""
    key = address_key_or_none(email)
    if key is None:
        return 0
    claimed = await conn.fetch(_CLAIM, user_id, key, now)
    for row in claimed:
        await record_event(
            conn,
            at=now,
            actor=f"user:{user_id}",
            action="org.member.claimed",
            target=f"org:{row['org_id']}",
            data={"membership": str(row["id"])},
        )
    return len(claimed)
