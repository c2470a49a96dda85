"""Auto-join at sign-in: a user whose provider vouches for an e-mail address at a domain
an approved organisation has verified joins that organisation, as its admins chose
(``pending`` for their review, or ``active``).

Only the exact verified domain counts (``eng.example.com`` is not ``example.com``), only
an address the provider marked verified, and only people with no membership at all in the
organisation: a removed member stays removed, whatever their address.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from idsvc.accounts.addresses import address_key_or_none
from idsvc.db import Connection
from idsvc.errors import Conflict
from idsvc.orgs.domains.domain_names import email_domain
from idsvc.orgs.members.service import enrol_member

__all__ = ["auto_join_on_sign_in"]

_CANDIDATES = """
SELECT o.id, o.auto_join
FROM org_domains d JOIN organisations o ON o.id = d.org_id
WHERE d.domain = $1 AND d.verified_at IS NOT NULL
  AND o.status = 'approved' AND o.auto_join <> 'off'
  AND NOT EXISTS (SELECT 1 FROM memberships m
                  WHERE m.org_id = o.id AND (m.user_id = $2 OR m.email = $3))
"""


async def auto_join_on_sign_in(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    email: str | None,
    email_verified: bool,
    now: datetime,
) -> list[uuid.UUID]:
    """Enrol the user where auto-join applies, in the sign-in's transaction; returns the
    new memberships' ids."""
    if not email or not email_verified:
        return []
    key = address_key_or_none(email)  # an address not in plain form joins nothing
    domain = email_domain(email) if key is not None else None
    if domain is None:
        return []
    joined = []
    for row in await conn.fetch(_CANDIDATES, domain, user_id, key):
        try:
            membership = await enrol_member(
                conn,
                org_id=row["id"],
                email=None,
                user_id=user_id,
                role="member",
                status=row["auto_join"],
                source="auto_join",
                actor="system",
                now=now,
            )
        except Conflict:
            # Enrolled a moment ago by another request: that membership stands.
            continue
        joined.append(membership.id)
    return joined
