"""``/scim/v2/Groups``: the Groups an organisation's identity provider pushes. Scoped to
the bearer token's organisation like Users; members must be Users of that organisation."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, delete, get, patch, post, put
from litestar.params import FromPath

from idsvc.http.openapi import documented
from idsvc.runtime import RuntimeDependency
from idsvc.scim.documented import ScimGroupBody, ScimPatchBody, ScimProjection
from idsvc.scim.groups import (
    create_group,
    delete_group,
    get_group,
    group_input,
    group_resource,
    lock_group,
    patch_group_input,
    replace_group,
)
from idsvc.scim.protocol import MEDIA_TYPE, authenticated_org, read_body, scim_base, scim_response
from idsvc.scim.resources import project

__all__ = ["group_routes"]


@get("/Groups/{group_id:uuid}", opt=documented(query=ScimProjection))
async def get_one(
    request: Request[Any, Any, Any], group_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    async with runtime.pool.acquire() as conn, conn.transaction():
        _actor, org_id = await authenticated_org(request, conn, runtime, "read")
        group = await get_group(conn, org_id, group_id)
    return scim_response(
        project(
            group_resource(group, scim_base(runtime)),
            request.query_params.get("attributes"),
            request.query_params.get("excludedAttributes"),
        )
    )


@post("/Groups", status_code=201, opt=documented(body=ScimGroupBody, media_type=MEDIA_TYPE))
async def create(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    wanted = group_input(await read_body(request))
    async with runtime.pool.acquire() as conn, conn.transaction():
        actor, org_id = await authenticated_org(request, conn, runtime, "enroll")
        group = await create_group(conn, org_id, wanted, actor=actor, now=runtime.clock())
    resource = group_resource(group, scim_base(runtime))
    return scim_response(resource, 201, {"Location": resource["meta"]["location"]})


@put("/Groups/{group_id:uuid}", opt=documented(body=ScimGroupBody, media_type=MEDIA_TYPE))
async def replace(
    request: Request[Any, Any, Any], group_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    wanted = group_input(await read_body(request))
    async with runtime.pool.acquire() as conn, conn.transaction():
        actor, org_id = await authenticated_org(request, conn, runtime, "enroll")
        group = await replace_group(
            conn, org_id, group_id, wanted, actor=actor, now=runtime.clock()
        )
    return scim_response(group_resource(group, scim_base(runtime)))


@patch("/Groups/{group_id:uuid}", opt=documented(body=ScimPatchBody, media_type=MEDIA_TYPE))
async def modify(
    request: Request[Any, Any, Any], group_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    body = await read_body(request)
    async with runtime.pool.acquire() as conn, conn.transaction():
        actor, org_id = await authenticated_org(request, conn, runtime, "enroll")
        await lock_group(conn, org_id, group_id)
        wanted = patch_group_input(await get_group(conn, org_id, group_id), body)
        group = await replace_group(
            conn, org_id, group_id, wanted, actor=actor, now=runtime.clock()
        )
    return scim_response(group_resource(group, scim_base(runtime)))


@delete("/Groups/{group_id:uuid}", status_code=204)
async def remove(
    request: Request[Any, Any, Any], group_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> None:
    async with runtime.pool.acquire() as conn, conn.transaction():
        actor, org_id = await authenticated_org(request, conn, runtime, "enroll")
        await delete_group(conn, org_id, group_id, actor=actor, now=runtime.clock())


group_routes = [get_one, create, replace, modify, remove]
