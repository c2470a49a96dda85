"""The SCIM administration use cases of an organisation's admins: create (shown once),
list and revoke its SCIM bearer tokens; see its Groups and choose the role one gives its
members. The token and Group records themselves are ``idsvc.scim.tokens`` and
``idsvc.scim.groups`` (the console uses them too)."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from idsvc.db import Connection
from idsvc.scim.groups import GroupRole, ScimGroup, list_groups, set_group_role
from idsvc.scim.tokens import ScimToken, create_token, list_tokens, revoke_token

__all__ = [
    "GroupView",
    "choose_group_role",
    "group_view",
    "groups",
    "issue_scim_token",
    "revoke",
    "tokens",
]


async def issue_scim_token(
    conn: Connection, *, org_id: uuid.UUID, label: str, created_by: uuid.UUID, now: datetime
) -> tuple[uuid.UUID, str]:
    """(token id, the token itself): shown to its creator this once, stored hashed."""
    return await create_token(conn, org_id=org_id, label=label, created_by=created_by, now=now)


async def tokens(conn: Connection, org_id: uuid.UUID) -> list[ScimToken]:
    return await list_tokens(conn, org_id)


async def revoke(
    conn: Connection, *, org_id: uuid.UUID, token_id: uuid.UUID, actor: str, now: datetime
) -> None:
    await revoke_token(conn, org_id=org_id, token_id=token_id, actor=actor, now=now)


async def groups(conn: Connection, org_id: uuid.UUID) -> list[ScimGroup]:
    return await list_groups(conn, org_id)


async def choose_group_role(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    group_id: uuid.UUID,
    role: GroupRole | None,
    actor: str,
    now: datetime,
) -> ScimGroup:
    return await set_group_role(conn, org_id, group_id, role, actor=actor, now=now)


class GroupView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    display_name: str
    external_id: str | None
    # The role the group's members hold in the organisation; null: none from this group.
    role: GroupRole | None
    member_count: int


def group_view(group: ScimGroup) -> GroupView:
    return GroupView(
        id=group.id,
        display_name=group.display_name,
        external_id=group.external_id,
        role=group.role,
        member_count=len(group.members),
    )
