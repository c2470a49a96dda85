"""``/scim/v2``: SCIM 2.0 for an organisation's identity provider: discovery, Users,
Groups and search. Every request but discovery is scoped to the organisation of its bearer
token (``scim_token`` guard); a User or Group of another organisation does not exist for
it (404). Errors use the SCIM error schema."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post, put
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from idsvc.errors import IdsvcError
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.openapi import documented
from idsvc.scim import groups, service
from idsvc.scim.discovery import resource_types, schemas, service_provider_config
from idsvc.scim.documented import (
    ScimGroupBody,
    ScimListQuery,
    ScimPatchBody,
    ScimProjection,
    ScimSearchBody,
    ScimUserBody,
)
from idsvc.scim.errors import NotFound
from idsvc.scim.guards import ScimOrg, provide_scim_org, scim_token
from idsvc.scim.protocol import (
    MEDIA_TYPE,
    SCIM_PATH,
    read_body,
    scim_base,
    scim_error,
    scim_response,
)
from idsvc.scim.queries import ListQuery, list_query, search_query
from idsvc.scim.resources import project, to_resource, user_input
from idsvc.settings import Settings

__all__ = ["routes", "scim_router"]

_READ = [scim_token("read")]
_WRITE = [scim_token("enroll")]

# Discovery (RFC 7644 §4): public, the same for every organisation.


@get("/ServiceProviderConfig")
async def provider_config(*, settings: Injected[Settings]) -> Response[Any]:
    return scim_response(service_provider_config(scim_base(settings)))


@get("/ResourceTypes")
async def list_resource_types(*, settings: Injected[Settings]) -> Response[Any]:
    return scim_response(service.list_response(resource_types(scim_base(settings))))


@get("/ResourceTypes/{name:str}")
async def one_resource_type(*, name: FromPath[str], settings: Injected[Settings]) -> Response[Any]:
    found = [t for t in resource_types(scim_base(settings)) if t["id"] == name]
    if not found:
        raise NotFound("no such resource type")
    return scim_response(found[0])


@get("/Schemas")
async def list_schemas(*, settings: Injected[Settings]) -> Response[Any]:
    return scim_response(service.list_response(schemas(scim_base(settings))))


@get("/Schemas/{schema_id:str}")
async def one_schema(*, schema_id: FromPath[str], settings: Injected[Settings]) -> Response[Any]:
    found = [s for s in schemas(scim_base(settings)) if s["id"] == schema_id]
    if not found:
        raise NotFound("no such schema")
    return scim_response(found[0])


# Lists and searches. The guard has checked the token before the handler runs: an
# unauthenticated caller learns nothing, not even whether its filter parses.


async def _search_body(request: Request[Any, Any, Any]) -> ListQuery:
    return search_query(await read_body(request))


async def _list(
    conn: Transaction,
    org_id: uuid.UUID,
    settings: Settings,
    query: ListQuery,
    kinds: tuple[str, ...],
) -> Response[Any]:
    return scim_response(await service.search(conn, org_id, scim_base(settings), query, kinds))


@get("/Users", guards=_READ, opt=documented(query=ScimListQuery))
async def list_users(
    *,
    request: Request[Any, Any, Any],
    conn: Transaction,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    return await _list(conn, scim_org, settings, list_query(request.query_params), ("User",))


@post(
    "/Users/.search",
    status_code=200,
    guards=_READ,
    opt=documented(body=ScimSearchBody, media_type=MEDIA_TYPE),
)
async def search_users(
    *,
    request: Request[Any, Any, Any],
    conn: Transaction,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    return await _list(conn, scim_org, settings, await _search_body(request), ("User",))


@get("/Groups", guards=_READ, opt=documented(query=ScimListQuery))
async def list_groups_route(
    *,
    request: Request[Any, Any, Any],
    conn: Transaction,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    return await _list(conn, scim_org, settings, list_query(request.query_params), ("Group",))


@post(
    "/Groups/.search",
    status_code=200,
    guards=_READ,
    opt=documented(body=ScimSearchBody, media_type=MEDIA_TYPE),
)
async def search_groups(
    *,
    request: Request[Any, Any, Any],
    conn: Transaction,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    return await _list(conn, scim_org, settings, await _search_body(request), ("Group",))


@post(
    "/.search",
    status_code=200,
    guards=_READ,
    opt=documented(body=ScimSearchBody, media_type=MEDIA_TYPE),
)
async def search_all(
    *,
    request: Request[Any, Any, Any],
    conn: Transaction,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    return await _list(conn, scim_org, settings, await _search_body(request), ("User", "Group"))


# Users: memberships of the token's organisation.


@get("/Users/{user_id:uuid}", guards=_READ, opt=documented(query=ScimProjection))
async def get_user(
    *,
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    conn: Transaction,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    member = await service.read_user(conn, scim_org, user_id)
    return scim_response(
        project(
            to_resource(member, scim_base(settings)),
            request.query_params.get("attributes"),
            request.query_params.get("excludedAttributes"),
        )
    )


@post(
    "/Users",
    status_code=201,
    guards=_WRITE,
    opt=documented(body=ScimUserBody, media_type=MEDIA_TYPE),
)
async def create_user(
    *,
    request: Request[Any, Any, Any],
    conn: Transaction,
    now: Now,
    actor: Actor,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    wanted = user_input(await read_body(request))
    member = await service.create_user(conn, scim_org, wanted, actor=actor, now=now)
    resource = to_resource(member, scim_base(settings))
    return scim_response(resource, 201, {"Location": resource["meta"]["location"]})


@put(
    "/Users/{user_id:uuid}",
    guards=_WRITE,
    opt=documented(body=ScimUserBody, media_type=MEDIA_TYPE),
)
async def replace_user(
    *,
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    wanted = user_input(await read_body(request))
    member = await service.replace_user(conn, scim_org, user_id, wanted, actor=actor, now=now)
    return scim_response(to_resource(member, scim_base(settings)))


@patch(
    "/Users/{user_id:uuid}",
    guards=_WRITE,
    opt=documented(body=ScimPatchBody, media_type=MEDIA_TYPE),
)
async def patch_user(
    *,
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    body = await read_body(request)
    base = scim_base(settings)
    member = await service.patch_user(
        conn, scim_org, user_id, body, base=base, actor=actor, now=now
    )
    return scim_response(to_resource(member, base))


@delete("/Users/{user_id:uuid}", status_code=204, guards=_WRITE)
async def delete_user(
    *, user_id: FromPath[uuid.UUID], conn: Transaction, now: Now, actor: Actor, scim_org: ScimOrg
) -> None:
    await service.delete_user(conn, scim_org, user_id, actor=actor, now=now)


# Groups: the token's organisation's; members must be its Users.


@get("/Groups/{group_id:uuid}", guards=_READ, opt=documented(query=ScimProjection))
async def get_one(
    *,
    request: Request[Any, Any, Any],
    group_id: FromPath[uuid.UUID],
    conn: Transaction,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    group = await groups.get_group(conn, scim_org, group_id)
    return scim_response(
        project(
            groups.group_resource(group, scim_base(settings)),
            request.query_params.get("attributes"),
            request.query_params.get("excludedAttributes"),
        )
    )


@post(
    "/Groups",
    status_code=201,
    guards=_WRITE,
    opt=documented(body=ScimGroupBody, media_type=MEDIA_TYPE),
)
async def create(
    *,
    request: Request[Any, Any, Any],
    conn: Transaction,
    now: Now,
    actor: Actor,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    wanted = groups.group_input(await read_body(request))
    group = await groups.create_group(conn, scim_org, wanted, actor=actor, now=now)
    resource = groups.group_resource(group, scim_base(settings))
    return scim_response(resource, 201, {"Location": resource["meta"]["location"]})


@put(
    "/Groups/{group_id:uuid}",
    guards=_WRITE,
    opt=documented(body=ScimGroupBody, media_type=MEDIA_TYPE),
)
async def replace(
    *,
    request: Request[Any, Any, Any],
    group_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    wanted = groups.group_input(await read_body(request))
    group = await groups.replace_group(conn, scim_org, group_id, wanted, actor=actor, now=now)
    return scim_response(groups.group_resource(group, scim_base(settings)))


@patch(
    "/Groups/{group_id:uuid}",
    guards=_WRITE,
    opt=documented(body=ScimPatchBody, media_type=MEDIA_TYPE),
)
async def modify(
    *,
    request: Request[Any, Any, Any],
    group_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
    scim_org: ScimOrg,
    settings: Injected[Settings],
) -> Response[Any]:
    body = await read_body(request)
    await groups.lock_group(conn, scim_org, group_id)
    wanted = groups.patch_group_input(await groups.get_group(conn, scim_org, group_id), body)
    group = await groups.replace_group(conn, scim_org, group_id, wanted, actor=actor, now=now)
    return scim_response(groups.group_resource(group, scim_base(settings)))


@delete("/Groups/{group_id:uuid}", status_code=204, guards=_WRITE)
async def remove(
    *, group_id: FromPath[uuid.UUID], conn: Transaction, now: Now, actor: Actor, scim_org: ScimOrg
) -> None:
    await groups.delete_group(conn, scim_org, group_id, actor=actor, now=now)


_handlers = [
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
    get_one,
    create,
    replace,
    modify,
    remove,
    get_user,
    create_user,
    replace_user,
    patch_user,
    delete_user,
]

scim_router = Router(
    path=SCIM_PATH,
    route_handlers=_handlers,
    dependencies={"scim_org": Provide(provide_scim_org, sync_to_thread=False)},
    exception_handlers={IdsvcError: scim_error, HTTPException: scim_error},
)

routes = [scim_router]
