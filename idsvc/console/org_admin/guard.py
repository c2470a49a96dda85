"""The guard of the org admin pages: ``guards=[administers("enroll")]``.

The viewer is signed in (else sent to sign in, like every console page) and administers
the organisation named by the route's ``org_id`` — or is an operator —, and the
organisation's state allows the action: the API's ``require_org_admin``, so a page never
allows what the API refuses (404 as if the organisation did not exist, 403 for a member).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from idsvc.console.guard import require_viewer
from idsvc.http.inject import infrastructure
from idsvc.orgs.access import require_org_admin
from idsvc.orgs.state_rules import OrgAction

__all__ = ["administers"]

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def administers(action: OrgAction) -> Guard:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        seen = await require_viewer(connection)
        org_id = connection.path_params.get("org_id")
        if not isinstance(org_id, uuid.UUID):
            raise TypeError(f"{connection.url.path}: administers needs an {{org_id:uuid}} route")
        infra = infrastructure(connection)
        async with infra.database.connection() as conn:
            await require_org_admin(
                conn,
                org_id=org_id,
                user_id=seen.session.user_id,
                operators=infra.settings.config.operators,
                action=action,
            )

    guard.__name__ = guard.__qualname__ = f"administers({action!r})"
    return guard
