"""``/v1/orgs/{id}/scim-tokens``: an organisation's admins create (shown once), list and
revoke the bearer tokens their identity provider provisions with."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import FromPath

from idsvc.http.body import read_json
from idsvc.http.openapi import documented
from idsvc.orgs.admin_guard import org_admin_user
from idsvc.runtime import RuntimeDependency
from idsvc.scim.tokens import ScimToken, create_token, list_tokens, revoke_token

__all__ = ["scim_token_routes"]

_NO_STORE = {"Cache-Control": "no-store"}


class NewToken(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class CreatedToken(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    label: str
    # Shown this once; only its hash is kept.
    token: str
    scim_base_url: str


class TokenList(msgspec.Struct, frozen=True, kw_only=True):
    tokens: list[ScimToken]
    scim_base_url: str


@post("/v1/orgs/{org_id:uuid}/scim-tokens", status_code=201, opt=documented(body=NewToken))
async def new_token(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[CreatedToken]:
    user = await org_admin_user(request, runtime, org_id, changing=True, action="enroll")
    body = await read_json(request, NewToken)
    async with runtime.pool.acquire() as conn, conn.transaction():
        token_id, token = await create_token(
            conn, org_id=org_id, label=body.label, created_by=user, now=runtime.clock()
        )
    base = f"{runtime.settings.service.issuer}/scim/v2"
    return Response(
        CreatedToken(id=token_id, label=body.label, token=token, scim_base_url=base),
        status_code=201,
        headers=_NO_STORE,
    )


@get("/v1/orgs/{org_id:uuid}/scim-tokens")
async def tokens(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[TokenList]:
    await org_admin_user(request, runtime, org_id, changing=False, action="read")
    async with runtime.pool.acquire() as conn:
        found = await list_tokens(conn, org_id)
    return Response(
        TokenList(tokens=found, scim_base_url=f"{runtime.settings.service.issuer}/scim/v2"),
        headers=_NO_STORE,
    )


@delete("/v1/orgs/{org_id:uuid}/scim-tokens/{token_id:uuid}", status_code=204)
async def revoke(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    token_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> None:
    user = await org_admin_user(request, runtime, org_id, changing=True, action="revoke_access")
    async with runtime.pool.acquire() as conn, conn.transaction():
        await revoke_token(
            conn, org_id=org_id, token_id=token_id, actor=f"user:{user}", now=runtime.clock()
        )


scim_token_routes = [new_token, tokens, revoke]
