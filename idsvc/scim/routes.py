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
from idsvc.errors import BadRequest, Conflict, IdsvcError, NotFound, Unauthenticated
from idsvc.orgs.members import enrol_member, set_member_status, update_member_details
from idsvc.orgs.records import MemberStatus
from idsvc.orgs.state_rules import OrgAction, ensure_org_may
from idsvc.runtime import Runtime, RuntimeDependency
from idsvc.scim.discovery import MAX_RESULTS, resource_types, schemas, service_provider_config
from idsvc.scim.filters import FilterError, parse_filter
from idsvc.scim.patch import apply_patch
from idsvc.scim.resources import (
    ERROR_SCHEMA,
    LIST_SCHEMA,
    USER_SCHEMA,
    ScimMember,
    UserInput,
    project,
    to_resource,
    user_input,
)
from idsvc.scim.tokens import authenticate

__all__ = ["scim_router"]

MEDIA_TYPE = "application/scim+json"
_MAX_BODY = 64 * 1024
# The SCIM error types (RFC 7644 §3.12) that idsvc's codes map to.
_SCIM_TYPES = {
    "invalidFilter",
    "invalidPath",
    "invalidSyntax",
    "invalidValue",
    "noTarget",
    "uniqueness",
    "mutability",
}

_MEMBERS = """
SELECT m.id, coalesce(m.email, lower(u.email)) AS email, m.external_id,
       coalesce(m.display_name, u.display_name) AS display_name, m.status, m.user_id,
       m.created_at, m.updated_at
FROM memberships m LEFT JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.status <> 'removed'
ORDER BY m.created_at, m.id
"""
_MEMBER = """
SELECT m.id, coalesce(m.email, lower(u.email)) AS email, m.external_id,
       coalesce(m.display_name, u.display_name) AS display_name, m.status, m.user_id,
       m.created_at, m.updated_at
FROM memberships m LEFT JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.id = $2 AND m.status <> 'removed'
"""
_EMAIL_TAKEN = """
SELECT m.id FROM memberships m LEFT JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.status <> 'removed' AND coalesce(m.email, lower(u.email)) = $2
  AND m.id <> $3
"""


_ORG_STATUS = "SELECT status FROM organisations WHERE id = $1"


def _base(runtime: Runtime) -> str:
    return f"{runtime.settings.service.issuer}/scim/v2"


def _scim(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, IdsvcError):
        status, detail, code = exc.status, exc.detail, exc.code
    elif isinstance(exc, HTTPException) and exc.status_code < 500:
        status, detail, code = exc.status_code, str(exc.detail), ""
    else:
        raise exc
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if code in _SCIM_TYPES:
        body["scimType"] = code
    headers = {"WWW-Authenticate": 'Bearer realm="idsvc-scim"'} if status == 401 else None
    return _scim(body, status, headers)


async def _org(
    request: Request[Any, Any, Any], conn: Connection, runtime: Runtime, action: OrgAction
) -> tuple[str, uuid.UUID]:
    """(actor, organisation) of the bearer token; one answer for every failure. The
    organisation's state must allow ``action`` (state_rules): a suspended or rejected
    organisation's tokens still read, and write nothing."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    found = (
        await authenticate(conn, token.strip(), runtime.clock())
        if scheme.lower() == "bearer"
        else None
    )
    if found is None:
        raise Unauthenticated("a valid SCIM bearer token is required")
    token_id, org_id = found
    ensure_org_may(await conn.fetchval(_ORG_STATUS, org_id), action)
    return f"scim:{token_id}", org_id


async def _body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise BadRequest("request too large", code="invalidSyntax")
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise BadRequest("the body is not JSON", code="invalidSyntax") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="invalidSyntax")
    return body


@get("/ServiceProviderConfig")
async def provider_config(runtime: RuntimeDependency) -> Response[Any]:
    return _scim(service_provider_config(_base(runtime)))


@get("/ResourceTypes")
async def list_resource_types(runtime: RuntimeDependency) -> Response[Any]:
    found = resource_types(_base(runtime))
    return _scim(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": len(found),
            "startIndex": 1,
            "itemsPerPage": len(found),
            "Resources": found,
        }
    )


@get("/ResourceTypes/User")
async def user_resource_type(runtime: RuntimeDependency) -> Response[Any]:
    return _scim(resource_types(_base(runtime))[0])


@get("/Schemas")
async def list_schemas(runtime: RuntimeDependency) -> Response[Any]:
    found = schemas(_base(runtime))
    return _scim(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": len(found),
            "startIndex": 1,
            "itemsPerPage": len(found),
            "Resources": found,
        }
    )


@get(f"/Schemas/{USER_SCHEMA}")
async def user_schema(runtime: RuntimeDependency) -> Response[Any]:
    return _scim(schemas(_base(runtime))[0])


def _int(request: Request[Any, Any, Any], name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer", code="invalidValue") from None


@get("/Users")
async def list_users(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    text = request.query_params.get("filter")
    try:
        predicate = parse_filter(text) if text else None
    except FilterError as exc:
        raise BadRequest(f"filter: {exc}", code="invalidFilter") from None
    start = max(1, _int(request, "startIndex", 1))  # RFC 7644: below 1 means 1
    count = min(max(0, _int(request, "count", 100)), MAX_RESULTS)
    async with runtime.pool.acquire() as conn, conn.transaction():
        _actor, org_id = await _org(request, conn, runtime, "read")
        members = rows_to(ScimMember, await conn.fetch(_MEMBERS, org_id))
    base = _base(runtime)
    resources = [to_resource(m, base) for m in members]
    if predicate is not None:
        resources = [r for r in resources if predicate(r)]
    page = resources[start - 1 : start - 1 + count]
    attributes, excluded = (
        request.query_params.get("attributes"),
        request.query_params.get("excludedAttributes"),
    )
    return _scim(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": len(resources),
            "startIndex": start,
            "itemsPerPage": len(page),
            "Resources": [project(r, attributes, excluded) for r in page],
        }
    )


async def _member(conn: Connection, org_id: uuid.UUID, user_id: uuid.UUID) -> ScimMember:
    member = row_to(ScimMember, await conn.fetchrow(_MEMBER, org_id, user_id))
    if member is None:
        raise NotFound("no such User")
    return member


@get("/Users/{user_id:uuid}")
async def get_user(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    async with runtime.pool.acquire() as conn, conn.transaction():
        _actor, org_id = await _org(request, conn, runtime, "read")
        member = await _member(conn, org_id, user_id)
    resource = to_resource(member, _base(runtime))
    return _scim(
        project(
            resource,
            request.query_params.get("attributes"),
            request.query_params.get("excludedAttributes"),
        )
    )


async def _store(
    conn: Connection,
    org_id: uuid.UUID,
    member: ScimMember,
    wanted: UserInput,
    *,
    actor: str,
    runtime: Runtime,
) -> ScimMember:
    if await conn.fetchval(_EMAIL_TAKEN, org_id, wanted.user_name, member.id) is not None:
        raise Conflict("another User has that userName", code="uniqueness")
    now = runtime.clock()
    await update_member_details(
        conn,
        org_id=org_id,
        membership_id=member.id,
        email=wanted.user_name,
        external_id=wanted.external_id,
        display_name=wanted.display_name,
        actor=actor,
        now=now,
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


@post("/Users", status_code=201)
async def create_user(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    wanted = user_input(await _body(request))
    async with runtime.pool.acquire() as conn, conn.transaction():
        actor, org_id = await _org(request, conn, runtime, "enroll")
        if (
            await conn.fetchval(_EMAIL_TAKEN, org_id, wanted.user_name, uuid.UUID(int=0))
            is not None
        ):
            raise Conflict("a User with that userName exists", code="uniqueness")
        created = await enrol_member(
            conn,
            org_id=org_id,
            email=wanted.user_name,
            user_id=None,
            role="member",
            status="active" if wanted.active else "suspended",
            source="scim",
            actor=actor,
            now=runtime.clock(),
            external_id=wanted.external_id,
            display_name=wanted.display_name,
        )
        member = await _member(conn, org_id, created.id)
    resource = to_resource(member, _base(runtime))
    return _scim(resource, 201, {"Location": resource["meta"]["location"]})


@put("/Users/{user_id:uuid}")
async def replace_user(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    wanted = user_input(await _body(request))
    async with runtime.pool.acquire() as conn, conn.transaction():
        actor, org_id = await _org(request, conn, runtime, "enroll")
        member = await _store(
            conn,
            org_id,
            await _member(conn, org_id, user_id),
            wanted,
            actor=actor,
            runtime=runtime,
        )
    return _scim(to_resource(member, _base(runtime)))


@patch("/Users/{user_id:uuid}")
async def patch_user(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    body = await _body(request)
    async with runtime.pool.acquire() as conn, conn.transaction():
        actor, org_id = await _org(request, conn, runtime, "enroll")
        member = await _member(conn, org_id, user_id)
        patched = apply_patch(to_resource(member, _base(runtime)), body)
        member = await _store(
            conn, org_id, member, user_input(patched), actor=actor, runtime=runtime
        )
    return _scim(to_resource(member, _base(runtime)))


@delete("/Users/{user_id:uuid}", status_code=204)
async def delete_user(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> None:
    async with runtime.pool.acquire() as conn, conn.transaction():
        actor, org_id = await _org(request, conn, runtime, "enroll")
        member = await _member(conn, org_id, user_id)
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
    path="/scim/v2",
    route_handlers=[
        provider_config,
        list_resource_types,
        user_resource_type,
        list_schemas,
        user_schema,
        list_users,
        get_user,
        create_user,
        replace_user,
        patch_user,
        delete_user,
    ],
    exception_handlers={IdsvcError: _error, HTTPException: _error},
)
