"""The guard for organisation routes: ``guards=[org_admin("enroll")]``.

The caller is signed in (with the CSRF header on a state change) and administers the
organisation named by the route's ``org_id`` — or is an operator —, and the organisation's
state allows the action (``orgs.state_rules``: the one table for the API, the console and
SCIM). Anyone else learns nothing: 404 as if the organisation did not exist, 403 for a
plain member. The caller's role (``admin`` or ``operator``) reaches the handler as
``org_role``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from idsvc.accounts.guards import require_session
from idsvc.http.inject import Injected, infrastructure
from idsvc.orgs.access import OrgRole, require_org_admin
from idsvc.orgs.state_rules import OrgAction

__all__ = ["OrgRoleDependency", "org_admin", "provide_org_role"]

_ROLE_KEY = "idsvc_org_role"

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]
OrgRoleDependency: TypeAlias = Injected[OrgRole]


def org_admin(action: OrgAction) -> Guard:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        session = await require_session(connection)
        org_id = connection.path_params.get("org_id")
        if not isinstance(org_id, uuid.UUID):
            raise TypeError(f"{connection.url.path}: org_admin needs an {{org_id:uuid}} route")
        infra = infrastructure(connection)
        async with infra.database.connection() as conn:
            role = await require_org_admin(
                conn,
                org_id=org_id,
                user_id=session.user_id,
                operators=infra.settings.config.operators,
                action=action,
            )
        connection.state[_ROLE_KEY] = role

    guard.__name__ = guard.__qualname__ = f"org_admin({action!r})"
    return guard


def provide_org_role(request: ASGIConnection[Any, Any, Any, Any]) -> OrgRole:
    role: OrgRole = request.state[_ROLE_KEY]
    return role
