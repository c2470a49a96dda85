"""``/scim/v2``: SCIM 2.0 for an organisation's identity provider. Every request is
scoped to the organisation of its bearer token; a User of another organisation does not
exist for it (404). Errors use the SCIM error schema."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post, put
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from idsvc.db import Connection, row_to, rows_to
from idsvc.errors import IdsvcError, NotFound
from idsvc.http.openapi import documented
from idsvc.orgs.members.service import enrol_member, set_member_status, update_member_details
from idsvc.orgs.records import MemberStatus
from idsvc.runtime import Runtime, RuntimeDependency
from idsvc.scim.discovery import MAX_RESULTS, resource_types, schemas, service_provider_config
from idsvc.scim.documented import (
    ScimListQuery,
    ScimPatchBody,
    ScimProjection,
    ScimSearchBody,
    ScimUserBody,
)
from idsvc.scim.errors import InvalidFilter, InvalidSyntax, InvalidValue, Uniqueness
from idsvc.scim.filters import FilterError, parse_filter
from idsvc.scim.group_routes import group_routes
from idsvc.scim.groups import group_resource, leave_all_groups, list_groups
from idsvc.scim.patch import apply_patch
from idsvc.scim.protocol import (
    MEDIA_TYPE,
    SCIM_PATH,
    authenticated_org,
    read_body,
    scim_base,
    scim_error,
    scim_response,
)
from idsvc.scim.resources import (
    LIST_SCHEMA,
    SEARCH_SCHEMA,
    ScimMember,
    UserInput,
    project,
    to_resource,
    user_input,
)

__all__ = ["scim_router"]

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
# the address a membership is claimed with.
_TAKEN = """
SELECT m.id FROM memberships m LEFT JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.status <> 'removed' AND m.id <> $4
  AND (lower(coalesce(m.scim_attributes->>'userName', m.email, u.email)) = lower($2)
       OR ($3::text IS NOT NULL AND coalesce(m.email, lower(u.email)) = $3))
LIMIT 1
"""
_SET_ATTRIBUTES = "UPDATE memberships SET scim_attributes = $3 WHERE org_id = $1 AND id = $2"


@get("/ServiceProviderConfig")
async def provider_config(runtime: RuntimeDependency) -> Response[Any]:
    return scim_response(service_provider_config(scim_base(runtime)))


@get("/ResourceTypes")
async def list_resource_types(runtime: RuntimeDependency) -> Response[Any]:
    found = resource_types(scim_base(runtime))
    return scim_response(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": len(found),
            "startIndex": 1,
            "itemsPerPage": len(found),
            "Resources": found,
        }
    )


@get("/ResourceTypes/{name:str}")
async def one_resource_type(name: FromPath[str], runtime: RuntimeDependency) -> Response[Any]:
    found = [t for t in resource_types(scim_base(runtime)) if t["id"] == name]
    if not found:
        raise NotFound("no such resource type")
    return scim_response(found[0])


@get("/Schemas")
async def list_schemas(runtime: RuntimeDependency) -> Response[Any]:
    found = schemas(scim_base(runtime))
    return scim_response(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": len(found),
            "startIndex": 1,
            "itemsPerPage": len(found),
            "Resources": found,
        }
    )


@get("/Schemas/{schema_id:str}")
async def one_schema(schema_id: FromPath[str], runtime: RuntimeDependency) -> Response[Any]:
    found = [s for s in schemas(scim_base(runtime)) if s["id"] == schema_id]
    if not found:
        raise NotFound("no such schema")
    return scim_response(found[0])


class _Query(msgspec.Struct, frozen=True, kw_only=True):
    """A list or search request (RFC 7644 §3.4.2 by query string, §3.4.3 by POST body)."""

    filter: str | None = None
    start: int = 1
    count: int = 100
    attributes: str | None = None
    excluded: str | None = None


def _int(raw: Any, name: str, default: int) -> int:
    if raw is None:
        return default
    if isinstance(raw, bool):
        raise InvalidValue(f"{name} must be an integer")
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise InvalidValue(f"{name} must be an integer") from None


def _names(raw: Any, name: str) -> str | None:
    """attributes / excludedAttributes: a comma-separated string or (in a body) a list."""
    if raw is None:
        return None
    if isinstance(raw, list) and all(isinstance(a, str) for a in raw):
        raw = ",".join(raw)
    if not isinstance(raw, str) or len(raw) > 2000:
        raise InvalidValue(f"{name} must list attribute names")
    return raw


def _query(params: Any) -> _Query:
    text = params.get("filter")
    if text is not None and not isinstance(text, str):
        raise InvalidFilter("filter must be text")
    return _Query(
        filter=text or None,
        start=max(1, _int(params.get("startIndex"), "startIndex", 1)),  # below 1 means 1
        count=min(max(0, _int(params.get("count"), "count", 100)), MAX_RESULTS),
        attributes=_names(params.get("attributes"), "attributes"),
        excluded=_names(params.get("excludedAttributes"), "excludedAttributes"),
    )


async def _search_body(request: Request[Any, Any, Any]) -> _Query:
    body = await read_body(request)
    listed = body.get("schemas")
    if not isinstance(listed, list) or SEARCH_SCHEMA not in listed:
        raise InvalidSyntax(f"schemas must include {SEARCH_SCHEMA}")
    return _query(body)


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


async def _list(
    request: Request[Any, Any, Any], runtime: Runtime, query: _Query, kinds: tuple[str, ...]
) -> Response[Any]:
    async with runtime.pool.acquire() as conn, conn.transaction():
        # Authenticated first: an unauthenticated caller learns nothing, not even whether
        # its filter parses.
        _actor, org_id = await authenticated_org(request, conn, runtime, "read")
        try:
            predicate = parse_filter(query.filter) if query.filter else None
        except FilterError as exc:
            raise InvalidFilter(f"filter: {exc}") from None
        resources = await _resources(conn, org_id, scim_base(runtime), kinds)
    if predicate is not None:
        resources = [r for r in resources if predicate(r)]
    page = resources[query.start - 1 : query.start - 1 + query.count]
    return scim_response(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": len(resources),
            "startIndex": query.start,
            "itemsPerPage": len(page),
            "Resources": [project(r, query.attributes, query.excluded) for r in page],
        }
    )


@get("/Users", opt=documented(query=ScimListQuery))
async def list_users(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    return await _list(request, runtime, _query(request.query_params), ("User",))


@post("/Users/.search", status_code=200, opt=documented(body=ScimSearchBody, media_type=MEDIA_TYPE))
async def search_users(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[Any]:
    return await _list(request, runtime, await _search_body(request), ("User",))


@get("/Groups", opt=documented(query=ScimListQuery))
async def list_groups_route(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[Any]:
    return await _list(request, runtime, _query(request.query_params), ("Group",))


@post(
    "/Groups/.search", status_code=200, opt=documented(body=ScimSearchBody, media_type=MEDIA_TYPE)
)
async def search_groups(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[Any]:
    return await _list(request, runtime, await _search_body(request), ("Group",))


@post("/.search", status_code=200, opt=documented(body=ScimSearchBody, media_type=MEDIA_TYPE))
async def search_all(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    return await _list(request, runtime, await _search_body(request), ("User", "Group"))


async def _member(conn: Connection, org_id: uuid.UUID, user_id: uuid.UUID) -> ScimMember:
    member = row_to(ScimMember, await conn.fetchrow(_MEMBER, org_id, user_id))
    if member is None:
        raise NotFound("no such User")
    return member


@get("/Users/{user_id:uuid}", opt=documented(query=ScimProjection))
async def get_user(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    async with runtime.pool.acquire() as conn, conn.transaction():
        _actor, org_id = await authenticated_org(request, conn, runtime, "read")
        member = await _member(conn, org_id, user_id)
    resource = to_resource(member, scim_base(runtime))
    return scim_response(
        project(
            resource,
            request.query_params.get("attributes"),
            request.query_params.get("excludedAttributes"),
        )
    )


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
    runtime: Runtime,
) -> ScimMember:
    await _ensure_unique(conn, org_id, wanted, member.id)
    now = runtime.clock()
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
    return await _member(conn, org_id, member.id)


@post("/Users", status_code=201, opt=documented(body=ScimUserBody, media_type=MEDIA_TYPE))
async def create_user(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    wanted = user_input(await read_body(request))
    async with runtime.pool.acquire() as conn, conn.transaction():
        actor, org_id = await authenticated_org(request, conn, runtime, "enroll")
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
            now=runtime.clock(),
            external_id=wanted.external_id,
            display_name=wanted.display_name,
        )
        await conn.execute(_SET_ATTRIBUTES, org_id, created.id, wanted.attributes)
        member = await _member(conn, org_id, created.id)
    resource = to_resource(member, scim_base(runtime))
    return scim_response(resource, 201, {"Location": resource["meta"]["location"]})


@put("/Users/{user_id:uuid}", opt=documented(body=ScimUserBody, media_type=MEDIA_TYPE))
async def replace_user(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    wanted = user_input(await read_body(request))
    async with runtime.pool.acquire() as conn, conn.transaction():
        actor, org_id = await authenticated_org(request, conn, runtime, "enroll")
        member = await _store(
            conn,
            org_id,
            await _member(conn, org_id, user_id),
            wanted,
            actor=actor,
            runtime=runtime,
        )
    return scim_response(to_resource(member, scim_base(runtime)))


@patch("/Users/{user_id:uuid}", opt=documented(body=ScimPatchBody, media_type=MEDIA_TYPE))
async def patch_user(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    body = await read_body(request)
    async with runtime.pool.acquire() as conn, conn.transaction():
        actor, org_id = await authenticated_org(request, conn, runtime, "enroll")
        member = await _member(conn, org_id, user_id)
        patched = apply_patch(to_resource(member, scim_base(runtime)), body)
        member = await _store(
            conn, org_id, member, user_input(patched), actor=actor, runtime=runtime
        )
    return scim_response(to_resource(member, scim_base(runtime)))


@delete("/Users/{user_id:uuid}", status_code=204)
async def delete_user(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> None:
    async with runtime.pool.acquire() as conn, conn.transaction():
        actor, org_id = await authenticated_org(request, conn, runtime, "enroll")
        member = await _member(conn, org_id, user_id)
        await leave_all_groups(conn, org_id, member.id, actor=actor, now=runtime.clock())
        await set_member_status(
            conn,
            org_id=org_id,
            membership_id=member.id,
            status="removed",
            actor=actor,
            now=runtime.clock(),
            reason="scim delete",
        )


scim_router = Router(
    path=SCIM_PATH,
    route_handlers=[
        provider_config,
        list_resource_types,
        one_resource_type,
        list_schemas,
        one_schema,
        list_users,
        search_users,
        list_groups_route,
        search_groups,
        search_all,
        *group_routes,
        get_user,
        create_user,
        replace_user,
        patch_user,
        delete_user,
    ],
    exception_handlers={IdsvcError: scim_error, HTTPException: scim_error},
)
