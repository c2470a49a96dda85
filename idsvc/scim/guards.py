"""The guard for SCIM protocol routes: ``guards=[scim_token("enroll")]``.

The request carries a live SCIM bearer token (one answer for every failure: missing,
malformed, forged, revoked), and the token's organisation's state allows the action
(``orgs.state_rules``: a suspended or rejected organisation's tokens still read, and write
nothing). The actor becomes ``scim:<token id>``; the organisation reaches the handler as
``scim_org``. Because the guard runs before the handler, an unauthenticated request never
reaches body or filter parsing and learns nothing, not even whether its filter parses.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from idsvc.errors import Unauthenticated
from idsvc.http.inject import Injected, infrastructure, set_actor
from idsvc.orgs.state_rules import OrgAction, ensure_org_may
from idsvc.scim.tokens import authenticate

__all__ = ["ScimOrg", "provide_scim_org", "scim_token"]

_ORG_KEY = "idsvc_scim_org"
_ORG_STATUS = "SELECT status FROM organisations WHERE id = $1"

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]
# The organisation of the request's SCIM bearer token.
ScimOrg: TypeAlias = Injected[uuid.UUID]


def scim_token(action: OrgAction) -> Guard:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
        infra = infrastructure(connection)
        # A transaction of its own: authenticating records the token's last use, which
        # stands whatever the request then does.
        async with infra.database.transaction() as conn:
            found = (
                await authenticate(conn, token.strip(), infra.clock())
                if scheme.lower() == "bearer"
                else None
            )
            if found is None:
                raise Unauthenticated("a valid SCIM bearer token is required")
            token_id, org_id = found
            ensure_org_may(await conn.fetchval(_ORG_STATUS, org_id), action)
        set_actor(connection, f"scim:{token_id}")
        connection.state[_ORG_KEY] = org_id

    guard.__name__ = guard.__qualname__ = f"scim_token({action!r})"
    return guard


def provide_scim_org(request: ASGIConnection[Any, Any, Any, Any]) -> uuid.UUID:
    org_id = request.state.get(_ORG_KEY)
    if not isinstance(org_id, uuid.UUID):
        # A handler asked for the organisation without the guard that establishes it.
        raise RuntimeError(f"{request.url.path}: no scim_token guard established the org")
    return org_id
