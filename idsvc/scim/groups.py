"""SCIM Groups of an organisation (RFC 7643 §4.2) and the roles their members hold.

A Group's members are Users (memberships) of the same organisation. An org admin may give
a group a role (``admin``): a User added to such a group becomes an admin; one that leaves
it (removed from the group, the group deleted, or the role taken off the group) goes back
to ``member`` unless another admin group still holds it. Admins appointed in the console
and never in a group are left alone. The last-admin rule holds here as everywhere: a
change that would leave the organisation without an active admin who has signed in is
refused whole (``orgs.members.last_admin``).

A group gives the admin role only to Users somebody has claimed (signed in with). A User
that is still just an e-mail address would make admin whoever first verifies that address,
chosen by the identity provider rather than by an admin; so adding one to an admin group,
or giving the role to a group that holds one, is refused whole (``Mutability``, 400). The
provider pushes the change again once the person has signed in.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import msgspec
from asyncpg import UniqueViolationError

from idsvc.audit import record_event
from idsvc.db import Connection, row_to, rows_to
from idsvc.errors import NotFound
from idsvc.http.control_chars import breaks_a_line
from idsvc.orgs.members.service import set_member_role
from idsvc.scim.errors import (
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    Mutability,
    NoTarget,
    Uniqueness,
)
from idsvc.scim.filters import FilterError, parse_filter

__all__ = [
    "GROUP_SCHEMA",
    "GroupInput",
    "GroupRole",
    "ScimGroup",
    "create_group",
    "delete_group",
    "get_group",
    "group_input",
    "group_resource",
    "leave_all_groups",
    "list_groups",
    "lock_group",
    "patch_group_input",
    "replace_group",
    "set_group_role",
]

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
GroupRole = Literal["admin"]
_MAX_MEMBERS = 10_000
_MAX_OPERATIONS = 100


class ScimGroup(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    org_id: uuid.UUID
    display_name: str
    external_id: str | None
    role: GroupRole | None
    created_at: datetime
    updated_at: datetime
    # (membership id, userName) of each member, in a stable order.
    members: list[tuple[uuid.UUID, str]] = []


class GroupInput(msgspec.Struct, frozen=True, kw_only=True):
    display_name: str
    external_id: str | None
    members: frozenset[uuid.UUID]


_GROUPS = """
SELECT g.id, g.org_id, g.display_name, g.external_id, g.role, g.created_at, g.updated_at,
       coalesce(array_agg(ARRAY[gm.membership_id::text,
                                coalesce(m.scim_attributes->>'userName', m.email, '')])
                FILTER (WHERE gm.membership_id IS NOT NULL), '{}') AS members
FROM scim_groups g
LEFT JOIN (scim_group_members gm JOIN memberships m
           ON m.id = gm.membership_id AND m.status <> 'removed') ON gm.group_id = g.id
WHERE g.org_id = $1 AND ($2::uuid IS NULL OR g.id = $2)
GROUP BY g.id
ORDER BY g.created_at, g.id
"""
_LOCK_GROUP = "SELECT id FROM scim_groups WHERE org_id = $1 AND id = $2 FOR UPDATE"
_NAME_TAKEN = """
SELECT id FROM scim_groups WHERE org_id = $1 AND lower(display_name) = lower($2) AND id <> $3
"""
_INSERT = """
INSERT INTO scim_groups (id, org_id, display_name, external_id, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $5)
"""
_UPDATE = """
UPDATE scim_groups SET display_name = $3, external_id = $4, updated_at = $5
WHERE org_id = $1 AND id = $2
"""
_SET_ROLE = "UPDATE scim_groups SET role = $3, updated_at = $4 WHERE org_id = $1 AND id = $2"
_DELETE = "DELETE FROM scim_groups WHERE org_id = $1 AND id = $2"
# A membership removed elsewhere (console, CSV) stays listed but no longer counts.
_MEMBER_IDS = """
SELECT gm.membership_id, gm.granted FROM scim_group_members gm
JOIN memberships m ON m.id = gm.membership_id AND m.status <> 'removed'
WHERE gm.group_id = $1
"""
_ADD_MEMBERS = """
INSERT INTO scim_group_members (group_id, membership_id)
SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING
"""
_REMOVE_MEMBERS = """
DELETE FROM scim_group_members WHERE group_id = $1 AND membership_id = ANY($2::uuid[])
"""
_KNOWN_MEMBERSHIPS = """
SELECT id FROM memberships WHERE org_id = $1 AND id = ANY($2::uuid[]) AND status <> 'removed'
"""
# Another group of the same role that holds the membership (it keeps the role, and the
# record that a group granted it).
_HELD_ELSEWHERE = """
SELECT gm.group_id FROM scim_group_members gm
JOIN scim_groups g ON g.id = gm.group_id
WHERE g.org_id = $1 AND g.role = $2 AND g.id <> $3 AND gm.membership_id = $4
ORDER BY gm.group_id LIMIT 1
"""
_MARK_GRANTED = """
UPDATE scim_group_members SET granted = true WHERE group_id = $1 AND membership_id = $2
"""
_UNMARK_GROUP = "UPDATE scim_group_members SET granted = false WHERE group_id = $1"
_CURRENT_ROLE = "SELECT role FROM memberships WHERE org_id = $1 AND id = $2"
# Of the memberships $2 a group would give role $3, those nobody has claimed yet.
_UNCLAIMED = """
SELECT id FROM memberships
WHERE org_id = $1 AND id = ANY($2::uuid[]) AND role <> $3 AND user_id IS NULL
ORDER BY id
"""
_LOCK_GROUPS_OF = """
SELECT g.id FROM scim_groups g
WHERE g.org_id = $1
  AND g.id IN (SELECT group_id FROM scim_group_members WHERE membership_id = $2)
ORDER BY g.id FOR UPDATE
"""
_GROUP_ROLE = "SELECT role FROM scim_groups WHERE id = $1"


class _GroupRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    org_id: uuid.UUID
    display_name: str
    external_id: str | None
    role: GroupRole | None
    created_at: datetime
    updated_at: datetime
    members: list[list[str]]


def _group(row: _GroupRow) -> ScimGroup:
    return ScimGroup(
        id=row.id,
        org_id=row.org_id,
        display_name=row.display_name,
        external_id=row.external_id,
        role=row.role,
        created_at=row.created_at,
        updated_at=row.updated_at,
        members=sorted((uuid.UUID(m[0]), m[1]) for m in row.members),
    )


async def list_groups(conn: Connection, org_id: uuid.UUID) -> list[ScimGroup]:
    return [_group(r) for r in rows_to(_GroupRow, await conn.fetch(_GROUPS, org_id, None))]


async def lock_group(conn: Connection, org_id: uuid.UUID, group_id: uuid.UUID) -> None:
    """Held until the transaction ends: a PATCH reads the members and writes them back
    under it, so two concurrent PATCHes (Okta sends them) never lose one another's."""
    if await conn.fetchval(_LOCK_GROUP, org_id, group_id) is None:
        raise NotFound("no such Group")


async def get_group(conn: Connection, org_id: uuid.UUID, group_id: uuid.UUID) -> ScimGroup:
    """A group of another organisation is NotFound, exactly like one that does not exist."""
    found = row_to(_GroupRow, await conn.fetchrow(_GROUPS, org_id, group_id))
    if found is None:
        raise NotFound("no such Group")
    return _group(found)


def group_resource(group: ScimGroup, base_url: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": str(group.id),
        "displayName": group.display_name,
    }
    if group.external_id:
        resource["externalId"] = group.external_id
    if group.members:
        resource["members"] = [
            {
                "value": str(member_id),
                "$ref": f"{base_url}/Users/{member_id}",
                "type": "User",
            }
            for member_id, _user_name in group.members
        ]
    resource["meta"] = {
        "resourceType": "Group",
        "created": group.created_at.isoformat(),
        "lastModified": group.updated_at.isoformat(),
        "location": f"{base_url}/Groups/{group.id}",
        "version": f'W/"{int(group.updated_at.timestamp() * 1_000_000)}"',
    }
    return resource


def _text(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or breaks_a_line(value):
        raise InvalidValue(
            f"{field} must be text of at most {limit} characters, without control characters"
        )
    return value.strip() or None


def _member_ids(value: Any) -> set[uuid.UUID]:
    entries = value if isinstance(value, list) else [value]
    if len(entries) > _MAX_MEMBERS:
        raise InvalidValue(f"a Group holds at most {_MAX_MEMBERS} members")
    found: set[uuid.UUID] = set()
    for entry in entries:
        raw = entry.get("value") if isinstance(entry, dict) else None
        try:
            found.add(uuid.UUID(str(raw)))
        except ValueError:
            raise InvalidValue("members.value must be a User id") from None
    return found


def group_input(resource: dict[str, Any]) -> GroupInput:
    display_name = _text(resource.get("displayName"), "displayName", 256)
    if display_name is None:
        raise InvalidValue("displayName is required")
    members = resource.get("members")
    return GroupInput(
        display_name=display_name,
        external_id=_text(resource.get("externalId"), "externalId", 256),
        members=frozenset(_member_ids(members) if members is not None else set()),
    )


def _selected(selector: str, members: set[uuid.UUID]) -> set[uuid.UUID]:
    """``members[value eq "…"]`` (Okta's remove) picks the members the filter matches."""
    try:
        matches = parse_filter(selector)
    except FilterError as exc:
        raise InvalidPath(f"path: {exc}") from None
    return {m for m in members if matches({"value": str(m), "type": "User"})}


def _patch_without_path(
    op: str, value: Any, state: dict[str, Any], members: set[uuid.UUID]
) -> set[uuid.UUID]:
    """Okta's ``{"op": "replace", "value": {"id": …, "displayName": …}}``."""
    if op == "remove" or not isinstance(value, dict):
        raise NoTarget("an operation without a path needs an object")
    changes = {k.lower(): v for k, v in value.items()}
    for key in ("displayName", "externalId"):
        if key.lower() in changes:
            state[key] = changes[key.lower()]
    if "members" not in changes:
        return members
    given = _member_ids(changes["members"])
    return members | given if op == "add" else given


def _patch_members(op: str, attribute: str, value: Any, members: set[uuid.UUID]) -> set[uuid.UUID]:
    if "[" in attribute:  # Okta: remove members[value eq "id"]
        if op != "remove":
            raise InvalidPath("only remove takes a members filter")
        return members - _selected(attribute.split("[", 1)[1].rsplit("]", 1)[0], members)
    if op == "add":
        return members | _member_ids(value)
    if op == "remove":  # Entra sends the members to remove as the value
        return members - _member_ids(value) if value is not None else set()
    return _member_ids(value) if value is not None else set()


def patch_group_input(group: ScimGroup, body: dict[str, Any]) -> GroupInput:
    """RFC 7644 §3.5.2 on a Group, in the forms Okta and Entra send: replace without a path
    (``{"displayName": …}``), add/remove on ``members`` with a list of ``{"value": id}``
    (Entra removes that way), remove on ``members[value eq "id"]`` (Okta)."""
    operations = body.get("Operations")
    if not isinstance(operations, list) or not 0 < len(operations) <= _MAX_OPERATIONS:
        raise InvalidSyntax("Operations must list 1 to 100 operations")
    state: dict[str, Any] = {"displayName": group.display_name, "externalId": group.external_id}
    members = {member_id for member_id, _ in group.members}
    for operation in operations:
        if not isinstance(operation, dict):
            raise InvalidSyntax("each operation must be an object")
        op = str(operation.get("op", "")).lower()
        path, value = operation.get("path"), operation.get("value")
        if op not in ("add", "replace", "remove"):
            raise InvalidSyntax("op must be add, replace or remove")
        if path is None:
            members = _patch_without_path(op, value, state, members)
            continue
        if not isinstance(path, str) or len(path) > 500:
            raise InvalidPath("path must be text")
        attribute = path.removeprefix(f"{GROUP_SCHEMA}:")
        head = attribute.split("[", 1)[0].lower()
        if head == "members":
            members = _patch_members(op, attribute, value, members)
        elif head in ("displayname", "externalid"):
            state["displayName" if head == "displayname" else "externalId"] = (
                None if op == "remove" else value
            )
        else:
            raise InvalidPath(f"unsupported path {path}")
    return group_input({**state, "members": [{"value": str(m)} for m in members]})


async def _ensure_name_free(
    conn: Connection, org_id: uuid.UUID, name: str, group_id: uuid.UUID
) -> None:
    if await conn.fetchval(_NAME_TAKEN, org_id, name, group_id) is not None:
        raise Uniqueness("another Group has that displayName")


async def _set_members(
    conn: Connection,
    org_id: uuid.UUID,
    group_id: uuid.UUID,
    wanted: frozenset[uuid.UUID],
    *,
    actor: str,
    now: datetime,
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Make the group hold exactly ``wanted``; (added, removed). Members must be Users of
    this organisation: another organisation's ids are refused like unknown ones."""
    known = {r["id"] for r in await conn.fetch(_KNOWN_MEMBERSHIPS, org_id, list(wanted))}
    if unknown := wanted - known:
        raise InvalidValue(f"no such User: {sorted(map(str, unknown))[0]}")
    current = {r["membership_id"]: r["granted"] for r in await conn.fetch(_MEMBER_IDS, group_id)}
    added, removed = set(wanted) - set(current), set(current) - set(wanted)
    if added:
        await conn.execute(_ADD_MEMBERS, group_id, list(added))
    if removed:
        await conn.execute(_REMOVE_MEMBERS, group_id, list(removed))
    role = await conn.fetchval(_GROUP_ROLE, group_id)
    if role is not None:
        await _grant(conn, org_id, group_id, role, added, actor=actor, now=now)
        granted_by_group = {m for m in removed if current[m]}
        await _withdraw(conn, org_id, group_id, role, granted_by_group, actor=actor, now=now)
    return added, removed


async def _grant(
    conn: Connection,
    org_id: uuid.UUID,
    group_id: uuid.UUID,
    role: GroupRole,
    members: set[uuid.UUID],
    *,
    actor: str,
    now: datetime,
) -> None:
    """Members joining a role group take the role; the group records that it gave it. All
    of them must have been claimed (the module docstring says why), else nothing is given."""
    if not members:
        return
    unclaimed = [r["id"] for r in await conn.fetch(_UNCLAIMED, org_id, list(members), role)]
    if unclaimed:
        raise Mutability(
            f"{len(unclaimed)} User(s) of this Group have not signed in yet (first: "
            f"{unclaimed[0]}); a Group gives the {role} role only to Users who have signed in"
        )
    for membership_id in sorted(members):
        if await conn.fetchval(_CURRENT_ROLE, org_id, membership_id) == role:
            continue  # appointed otherwise: the group did not give it, and won't take it
        await set_member_role(
            conn, org_id=org_id, membership_id=membership_id, role=role, actor=actor, now=now
        )
        await conn.execute(_MARK_GRANTED, group_id, membership_id)


async def _withdraw(
    conn: Connection,
    org_id: uuid.UUID,
    group_id: uuid.UUID,
    role: GroupRole,
    granted: set[uuid.UUID],
    *,
    actor: str,
    now: datetime,
) -> None:
    """Memberships whose role this group gave, leaving it, return to ``member`` — unless
    another group of the same role holds them, which then keeps the record of the grant."""
    for membership_id in sorted(granted):
        other = await conn.fetchval(_HELD_ELSEWHERE, org_id, role, group_id, membership_id)
        if other is not None:
            await conn.execute(_MARK_GRANTED, other, membership_id)
            continue
        await set_member_role(
            conn, org_id=org_id, membership_id=membership_id, role="member", actor=actor, now=now
        )


async def create_group(
    conn: Connection, org_id: uuid.UUID, wanted: GroupInput, *, actor: str, now: datetime
) -> ScimGroup:
    group_id = uuid.uuid4()
    await _ensure_name_free(conn, org_id, wanted.display_name, group_id)
    try:
        async with conn.transaction():
            await conn.execute(
                _INSERT, group_id, org_id, wanted.display_name, wanted.external_id, now
            )
    except UniqueViolationError:  # a concurrent create of the same name won the race
        raise Uniqueness("another Group has that displayName") from None
    added, _ = await _set_members(conn, org_id, group_id, wanted.members, actor=actor, now=now)
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="scim.group.created",
        target=f"org:{org_id}",
        data={"group": str(group_id), "members_added": len(added)},
    )
    return await get_group(conn, org_id, group_id)


async def replace_group(
    conn: Connection,
    org_id: uuid.UUID,
    group_id: uuid.UUID,
    wanted: GroupInput,
    *,
    actor: str,
    now: datetime,
) -> ScimGroup:
    if await conn.fetchval(_LOCK_GROUP, org_id, group_id) is None:
        raise NotFound("no such Group")
    await _ensure_name_free(conn, org_id, wanted.display_name, group_id)
    await conn.execute(_UPDATE, org_id, group_id, wanted.display_name, wanted.external_id, now)
    added, removed = await _set_members(
        conn, org_id, group_id, wanted.members, actor=actor, now=now
    )
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="scim.group.updated",
        target=f"org:{org_id}",
        data={
            "group": str(group_id),
            "members_added": len(added),
            "members_removed": len(removed),
        },
    )
    return await get_group(conn, org_id, group_id)


async def delete_group(
    conn: Connection, org_id: uuid.UUID, group_id: uuid.UUID, *, actor: str, now: datetime
) -> None:
    if await conn.fetchval(_LOCK_GROUP, org_id, group_id) is None:
        raise NotFound("no such Group")
    await _set_members(conn, org_id, group_id, frozenset(), actor=actor, now=now)
    await conn.execute(_DELETE, org_id, group_id)
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="scim.group.deleted",
        target=f"org:{org_id}",
        data={"group": str(group_id)},
    )


async def leave_all_groups(
    conn: Connection, org_id: uuid.UUID, membership_id: uuid.UUID, *, actor: str, now: datetime
) -> None:
    """A User deleted over SCIM leaves its groups (its role follows, as for any removal)."""
    await conn.fetch(_LOCK_GROUPS_OF, org_id, membership_id)  # in id order: no deadlock
    for group in await list_groups(conn, org_id):
        ids = {member_id for member_id, _ in group.members}
        if membership_id in ids:
            await _set_members(
                conn, org_id, group.id, frozenset(ids - {membership_id}), actor=actor, now=now
            )


async def set_group_role(
    conn: Connection,
    org_id: uuid.UUID,
    group_id: uuid.UUID,
    role: GroupRole | None,
    *,
    actor: str,
    now: datetime,
) -> ScimGroup:
    """An org admin's choice: members of the group hold ``role`` (or no role from it)."""
    if await conn.fetchval(_LOCK_GROUP, org_id, group_id) is None:
        raise NotFound("no such group in this organisation")
    group = await get_group(conn, org_id, group_id)
    if group.role == role:
        return group
    members = {r["membership_id"]: r["granted"] for r in await conn.fetch(_MEMBER_IDS, group_id)}
    await conn.execute(_SET_ROLE, org_id, group_id, role, now)
    if group.role is not None:
        granted = {m for m, by_group in members.items() if by_group}
        await _withdraw(conn, org_id, group_id, group.role, granted, actor=actor, now=now)
        await conn.execute(_UNMARK_GROUP, group_id)
    if role is not None:
        await _grant(conn, org_id, group_id, role, set(members), actor=actor, now=now)
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="scim.group.role_set",
        target=f"org:{org_id}",
        data={"group": str(group_id), "from": group.role, "to": role},
    )
    return await get_group(conn, org_id, group_id)
