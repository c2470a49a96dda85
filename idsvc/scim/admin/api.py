"""``/v1/orgs/{id}/scim-tokens`` and ``/v1/orgs/{id}/scim-groups``: an organisation's
admins create (shown once), list and revoke the bearer tokens their identity provider
provisions with, see the Groups it pushed, and choose which one's members are admins
(e.g. ``idsvc-admins``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.params import FromPath

from idsvc.accounts.sessions import Session
from idsvc.http.body import read_json
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.openapi import documented
from idsvc.orgs.guards import org_admin
from idsvc.scim.admin import service
from idsvc.scim.groups import GroupRole
from idsvc.scim.protocol import scim_base
from idsvc.scim.tokens import ScimToken
from idsvc.settings import Settings

__all__ = ["routes"]

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


class GroupList(msgspec.Struct, frozen=True, kw_only=True):
    groups: list[service.GroupView]


class RoleChoice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: GroupRole | None


@post(
    "/v1/orgs/{org_id:uuid}/scim-tokens",
    status_code=201,
    guards=[org_admin("enroll")],
    opt=documented(body=NewToken),
)
async def new_token(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    session: Injected[Session],
    settings: Injected[Settings],
) -> Response[CreatedToken]:
    body = await read_json(request, NewToken)
    token_id, token = await service.issue_scim_token(
        conn, org_id=org_id, label=body.label, created_by=session.user_id, now=now
    )
    return Response(
        CreatedToken(id=token_id, label=body.label, token=token, scim_base_url=scim_base(settings)),
        status_code=201,
        headers=_NO_STORE,
    )


@get("/v1/orgs/{org_id:uuid}/scim-tokens", guards=[org_admin("read")])
async def tokens(
    *, org_id: FromPath[uuid.UUID], conn: Transaction, settings: Injected[Settings]
) -> Response[TokenList]:
    found = await service.tokens(conn, org_id)
    return Response(
        TokenList(tokens=found, scim_base_url=scim_base(settings)),
        headers=_NO_STORE,
    )


@delete(
    "/v1/orgs/{org_id:uuid}/scim-tokens/{token_id:uuid}",
    status_code=204,
    guards=[org_admin("revoke_access")],
)
async def revoke(
    *,
    org_id: FromPath[uuid.UUID],
    token_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> None:
    await service.revoke(conn, org_id=org_id, token_id=token_id, actor=actor, now=now)


@get("/v1/orgs/{org_id:uuid}/scim-groups", guards=[org_admin("read")])
async def groups(*, org_id: FromPath[uuid.UUID], conn: Transaction) -> GroupList:
    found = await service.groups(conn, org_id)
    return GroupList(groups=[service.group_view(g) for g in found])


@put(
    "/v1/orgs/{org_id:uuid}/scim-groups/{group_id:uuid}/role",
    guards=[org_admin("enroll")],
    opt=documented(body=RoleChoice),
)
async def choose_role(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    group_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> service.GroupView:
    body = await read_json(request, RoleChoice)
    group = await service.choose_group_role(
        conn, org_id=org_id, group_id=group_id, role=body.role, actor=actor, now=now
    )
    return service.group_view(group)


routes = [new_token, tokens, revoke, groups, choose_role]
