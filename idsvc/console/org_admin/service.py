"""What every org admin page reads: the organisations the viewer belongs to, and an
organisation's page (its members, SCIM tokens and groups, domains)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

from idsvc.db import Connection
from idsvc.orgs.domains.service import Domain, list_domains
from idsvc.orgs.members.member_list import MemberPage, MemberQuery, list_members
from idsvc.orgs.records import Organisation
from idsvc.orgs.vetting.organisations import get_organisation, list_user_organisations
from idsvc.policy.model import PolicySettings
from idsvc.scim.admin.service import GroupView, group_view
from idsvc.scim.groups import list_groups
from idsvc.scim.tokens import ScimToken, list_tokens
from idsvc.settings import ScreeningSettings

__all__ = ["OrgOverview", "admin_menu", "org_overview"]


async def admin_menu(conn: Connection, user_id: uuid.UUID) -> dict[str, Any]:
    """The page context of every org admin page: the viewer's organisations, and those
    they administer (the console's menu)."""
    mine = await list_user_organisations(conn, user_id)
    admin_of = [o for o in mine if o.role == "admin" and o.member_status == "active"]
    return {
        "console_orgs": [{"id": o.id, "legal_name": o.legal_name} for o in admin_of],
        "mine": mine,
    }


class OrgOverview(NamedTuple):
    org: Organisation
    members: MemberPage
    tokens: list[ScimToken]
    domains: list[Domain]
    groups: list[GroupView]


async def org_overview(
    conn: Connection,
    org_id: uuid.UUID,
    query: MemberQuery,
    *,
    policies: dict[str, PolicySettings],
    screening: ScreeningSettings,
    sees_eligibility: bool,
    now: datetime,
) -> OrgOverview:
    return OrgOverview(
        org=await get_organisation(conn, org_id),
        members=await list_members(
            conn,
            org_id,
            query,
            policies=policies,
            screening=screening,
            sees_eligibility=sees_eligibility,
            now=now,
        ),
        tokens=await list_tokens(conn, org_id),
        domains=await list_domains(conn, org_id),
        groups=[group_view(g) for g in await list_groups(conn, org_id)],
    )
