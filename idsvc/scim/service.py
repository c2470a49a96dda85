"""The SCIM use cases for Users and for listing and searching: each works inside the
organisation of the caller's bearer token, where a User of another organisation does not
exist (404). Groups' own use cases are in ``idsvc.scim.groups``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from idsvc.db import Connection, row_to, rows_to
from idsvc.orgs.members.service import enrol_member, set_member_status, update_member_details
from idsvc.orgs.records import MemberStatus
from idsvc.scim.errors import InvalidFilter, NotFound, Uniqueness
from idsvc.scim.filters import FilterError, parse_filter
from idsvc.scim.groups import group_resource, leave_all_groups, list_groups
from idsvc.scim.patch import apply_patch
from idsvc.scim.queries import ListQuery
from idsvc.scim.resources import (
    LIST_SCHEMA,
    ScimMember,
    UserInput,
    project,
    to_resource,
    user_input,
)

__all__ = [
    "create_user",
    "delete_user",
    "list_response",
    "patch_user",
    "read_user",
    "replace_user",
    "search",
]

_MEMBERS = """
SELECT m.id, coalesce(m.email, lower(u.email)) AS email, m.external_id,
       coalesce(m.display_name, u.display_name) AS display_name, m.status, m.user_id,
       m.created_at, m.updated_at, m.scim_attributes
FROM memberships m LEFT JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.status <> 'removed'
ORDER BY m.created_at, m.id
"""
_MEMBER = """
SELECT m.id, coalesce(m.email, lower(u.email)) AS email, m.external_id,
       coalesce(m.display_name, u.display_name) AS display_name, m.status, m.user_id,
       m.created_at, m.updated_at, m.scim_attributes
FROM memberships m LEFT JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.id = $2 AND m.status <> 'removed'
"""
# userName is unique in the organisation (case-insensitively, as /Schemas says), and so is
# the address a membership is claimed with, by its key (idsvc.accounts.addresses): the
# enrolment's, or a member enrolled by account's (users.email_key, migration 0025). A
# userName that is an address is also the claim address, so it is compared by key there.
_TAKEN = """
SELECT m.id FROM memberships m LEFT JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.status <> 'removed' AND m.id <> $4
  AND (lower(coalesce(m.scim_attributes->>'userName', m.email, u.email)) = lower($2)
       OR ($3::text IS NOT NULL AND coalesce(m.email, u.email_key) = $3))
LIMIT 1
"""
_SET_ATTRIBUTES = "UPDATE memberships SET scim_attributes = $3 WHERE org_id = $1 AND id = $2"


def list_response(resources: list[dict[str, Any]], start: int = 1) -> dict[str, Any]:
    """A ListResponse of one page (RFC 7644 §3.4.2)."""
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": len(resources),
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


async def _resources(
    conn: Connection, org_id: uuid.UUID, base: str, kinds: tuple[str, ...]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if "User" in kinds:
        members = rows_to(ScimMember, await conn.fetch(_MEMBERS, org_id))
        found += [to_resource(m, base) for m in members]
    if "Group" in kinds:
        found += [group_resource(g, base) for g in await list_groups(conn, org_id)]
    return found


async def search(
    conn: Connection, org_id: uuid.UUID, base: str, query: ListQuery, kinds: tuple[str, ...]
) -> dict[str, Any]:
    """The ListResponse for a list or search of ``kinds`` ("User", "Group")."""
    try:
        predicate = parse_filter(query.filter) if query.filter else None
    except FilterError as exc:
        raise InvalidFilter(f"filter: {exc}") from None
    resources = await _resources(conn, org_id, base, kinds)
    if predicate is not None:
        resources = [r for r in resources if predicate(r)]
    page = resources[query.start - 1 : query.start - 1 + query.count]
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": len(resources),
        "startIndex": query.start,
        "itemsPerPage": len(page),
        "Resources": [project(r, query.attributes, query.excluded) for r in page],
    }


async def read_user(conn: Connection, org_id: uuid.UUID, user_id: uuid.UUID) -> ScimMember:
    member = row_to(ScimMember, await conn.fetchrow(_MEMBER, org_id, user_id))
    if member is None:
        raise NotFound("no such User")
    return member


async def _ensure_unique(
    conn: Connection, org_id: uuid.UUID, wanted: UserInput, membership_id: uuid.UUID
) -> None:
    taken = await conn.fetchval(_TAKEN, org_id, wanted.user_name, wanted.claim_email, membership_id)
    if taken is not None:
        raise Uniqueness("another User has that userName or e-mail address")


async def _store(
    conn: Connection,
    org_id: uuid.UUID,
    member: ScimMember,
    wanted: UserInput,
    *,
    actor: str,
    now: datetime,
) -> ScimMember:
    await _ensure_unique(conn, org_id, wanted, member.id)
    await update_member_details(
        conn,
        org_id=org_id,
        membership_id=member.id,
        email=wanted.claim_email,
        external_id=wanted.external_id,
        display_name=wanted.display_name,
        actor=actor,
        now=now,
        scim_attributes=wanted.attributes,
    )
    target: MemberStatus = "active" if wanted.active else "suspended"
    if member.status in ("active", "suspended") and member.status != target:
        await set_member_status(
            conn,
            org_id=org_id,
            membership_id=member.id,
            status=target,
            actor=actor,
            now=now,
            reason="scim",
        )
    return await read_user(conn, org_id, member.id)


async def create_user(
    conn: Connection, org_id: uuid.UUID, wanted: UserInput, *, actor: str, now: datetime
) -> ScimMember:
    await _ensure_unique(conn, org_id, wanted, uuid.UUID(int=0))
    created = await enrol_member(
        conn,
        org_id=org_id,
        email=wanted.claim_email,
        user_id=None,
        role="member",
        status="active" if wanted.active else "suspended",
        source="scim",
        actor=actor,
        now=now,
        external_id=wanted.external_id,
        display_name=wanted.display_name,
    )
    await conn.execute(_SET_ATTRIBUTES, org_id, created.id, wanted.attributes)
    return await read_user(conn, org_id, created.id)


async def replace_user(
    conn: Connection,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    wanted: UserInput,
    *,
    actor: str,
    now: datetime,
) -> ScimMember:
    member = await read_user(conn, org_id, user_id)
    return await _store(conn, org_id, member, wanted, actor=actor, now=now)


async def patch_user(
    conn: Connection,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    body: dict[str, Any],
    *,
    base: str,
    actor: str,
    now: datetime,
) -> ScimMember:
    """Applies a PatchOp to the User's resource as SCIM sees it, then stores the result."""
    member = await read_user(conn, org_id, user_id)
    patched = apply_patch(to_resource(member, base), body)
    return await _store(conn, org_id, member, user_input(patched), actor=actor, now=now)


async def delete_user(
    conn: Connection, org_id: uuid.UUID, user_id: uuid.UUID, *, actor: str, now: datetime
) -> None:
    member = await read_user(conn, org_id, user_id)
    await leave_all_groups(conn, org_id, member.id, actor=actor, now=now)
    await set_member_status(
        conn,
        org_id=org_id,
        membership_id=member.id,
        status="removed",
        actor=actor,
        now=now,
        reason="scim delete",
    )
