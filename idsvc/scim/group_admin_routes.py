"""``/v1/orgs/{id}/scim-groups``: an organisation's admins see the Groups their identity
provider pushed and choose which one's members are admins (e.g. ``idsvc-admins``)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, get, put
from litestar.params import FromPath

from idsvc.http.body import read_json
from idsvc.http.openapi import documented
from idsvc.orgs.admin_guard import org_admin_user
from idsvc.runtime import RuntimeDependency
from idsvc.scim.groups import GroupRole, ScimGroup, list_groups, set_group_role

__all__ = ["GroupView", "group_admin_routes", "group_view"]


class GroupView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    display_name: str
    external_id: str | None
    # The role the group's members hold in the organisation; null: none from this group.
    role: GroupRole | None
    member_count: int


class GroupList(msgspec.Struct, frozen=True, kw_only=True):
    groups: list[GroupView]


class RoleChoice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: GroupRole | None


def group_view(group: ScimGroup) -> GroupView:
    return GroupView(
        id=group.id,
        display_name=group.display_name,
        external_id=group.external_id,
        role=group.role,
        member_count=len(group.members),
    )


@get("/v1/orgs/{org_id:uuid}/scim-groups")
async def groups(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> GroupList:
    await org_admin_user(request, runtime, org_id, changing=False, action="read")
    async with runtime.pool.acquire() as conn:
        found = await list_groups(conn, org_id)
    return GroupList(groups=[group_view(g) for g in found])


@put("/v1/orgs/{org_id:uuid}/scim-groups/{group_id:uuid}/role", opt=documented(body=RoleChoice))
async def choose_role(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    group_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> GroupView:
    user = await org_admin_user(request, runtime, org_id, changing=True, action="enroll")
    body = await read_json(request, RoleChoice)
    async with runtime.pool.acquire() as conn, conn.transaction():
        group = await set_group_role(
            conn, org_id, group_id, body.role, actor=f"user:{user}", now=runtime.clock()
        )
    return group_view(group)


group_admin_routes = [groups, choose_role]
