"""What the organisation pages read: an organisation's own audit trail."""

from __future__ import annotations

import uuid

from idsvc.audit.events import AuditEvent
from idsvc.console.audit_query import AuditFilter, find_events
from idsvc.db import Connection
from idsvc.orgs.disclosure import OPERATOR_ONLY_EVENTS
from idsvc.orgs.records import Organisation
from idsvc.orgs.vetting.organisations import get_organisation

__all__ = ["org_trail"]


async def org_trail(
    conn: Connection, org_id: uuid.UUID, action: str
) -> tuple[Organisation, list[AuditEvent]]:
    """Events whose target is the organisation (newest 200), without those only operators
    may see."""
    org = await get_organisation(conn, org_id)
    events = await find_events(
        conn,
        AuditFilter(target=f"org:{org_id}", action=action),
        limit=200,
        hidden_actions=OPERATOR_ONLY_EVENTS,
    )
    return org, events
