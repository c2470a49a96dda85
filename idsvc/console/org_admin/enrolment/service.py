"""What the enrolment pages run that is more than one call into ``idsvc.orgs`` or
``idsvc.scim``: a domain's verification, which asks DNS."""

from __future__ import annotations

import uuid
from datetime import datetime

from idsvc.db.database import Database
from idsvc.orgs.domains.dns_txt import txt_values
from idsvc.orgs.domains.service import Domain, check_domain, get_domain
from idsvc.settings import DnsSettings

__all__ = ["claimed_domain", "verify_domain"]


async def claimed_domain(database: Database, org_id: uuid.UUID, name: str) -> Domain:
    """The organisation's claim (``NotFound`` without one)."""
    async with database.connection() as conn:
        return await get_domain(conn, org_id, name)


async def verify_domain(
    database: Database,
    claimed: Domain,
    *,
    org_id: uuid.UUID,
    name: str,
    dns: DnsSettings,
    actor: str,
    now: datetime,
) -> Domain:
    """Looks for the challenge in DNS, and records what it found. ``DnsUnavailable`` when
    DNS does not answer."""
    # DNS is asked outside any transaction: no row stays locked while it answers.
    published = await txt_values(claimed.record_name, dns)
    async with database.transaction() as conn:
        return await check_domain(
            conn, org_id=org_id, domain=name, published=published, actor=actor, now=now
        )
