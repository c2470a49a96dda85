"""The browser-session guard for organisation routes: the caller is signed in (and, for a
state change, sent the CSRF header) and administers *that* organisation, or is an
operator. One function, so every org-scoped route asks the same question."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request

from idsvc.accounts.session_guard import require_session
from idsvc.orgs.access import require_org_admin
from idsvc.orgs.state_rules import OrgAction
from idsvc.runtime import Runtime

__all__ = ["org_admin_user"]


async def org_admin_user(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    org_id: uuid.UUID,
    *,
    changing: bool,
    action: OrgAction,
) -> uuid.UUID:
    """The caller's user id; raises 401, 403 (CSRF, plain member, or the organisation's
    state forbids ``action``) or 404 (anyone else)."""
    session = await require_session(request, runtime, changing=changing)
    async with runtime.pool.acquire() as conn:
        await require_org_admin(
            conn,
            org_id=org_id,
            user_id=session.user_id,
            operators=runtime.settings.config.operators,
            action=action,
        )
    return session.user_id
