"""What the organisation pages read: an organisation's own audit trail."""

from __future__ import annotations

import uuid

import msgspec

from idsvc.audit.events import AuditEvent
from idsvc.audit.personal import for_membership, for_org, open_sealed, sealed_owners
from idsvc.console.audit_query import AuditFilter, find_events
from idsvc.db import Connection
from idsvc.orgs.disclosure import OPERATOR_ONLY_EVENTS
from idsvc.orgs.records import Organisation
from idsvc.orgs.vetting.organisations import get_organisation

__all__ = ["org_trail"]

_OWN_MEMBERSHIPS = "SELECT id FROM memberships WHERE org_id = $1 AND id = ANY($2::uuid[])"


async def org_trail(
    conn: Connection, org_id: uuid.UUID, action: str
) -> tuple[Organisation, list[AuditEvent]]:
    """Events whose target is the organisation (newest 200), without those only operators
    may see, with the texts sealed for it opened."""
    org = await get_organisation(conn, org_id)
    events = await find_events(
        conn,
        AuditFilter(target=f"org:{org_id}", action=action),
        limit=200,
        hidden_actions=OPERATOR_ONLY_EVENTS,
    )
    # Admins read what was written about their organisation and its memberships (their
    # own reasons, an operator's status reason), and nothing else that may be sealed in
    # an event: a value sealed for anyone else reads "[withheld]".
    found = set().union(*(sealed_owners(e.data) for e in events)) if events else set()
    memberships = [owner.id for owner in found if owner.kind == "membership"]
    own = await conn.fetch(_OWN_MEMBERSHIPS, org_id, memberships) if memberships else []
    readable = {for_org(org_id), *(for_membership(r["id"]) for r in own)}
    opened = [
        msgspec.structs.replace(e, data=await open_sealed(conn, e.data, only=readable))
        for e in events
    ]
    return org, opened
