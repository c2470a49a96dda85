"""Who is looking at a console page. Signed-out visitors are sent to sign in and brought
back; signed-in people who may not see a page get a 403 page, never its content."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request

from idsvc.accounts.operators import is_operator
from idsvc.accounts.session_guard import current_session
from idsvc.accounts.sessions import Session, csrf_token
from idsvc.errors import Forbidden, IdsvcError
from idsvc.policy.country_groups import country_groups
from idsvc.runtime import Runtime

__all__ = ["SignInFirst", "Viewer", "operator_viewer", "viewer"]


class SignInFirst(IdsvcError):
    """Answered with a redirect to the sign-in page (see the console's exception handler)."""

    status = 303
    code = "sign_in_first"


class Viewer(msgspec.Struct, frozen=True, kw_only=True):
    session: Session
    operator: bool
    csrf: str

    def page_context(self) -> dict[str, Any]:
        return {
            "signed_in": True,
            "csrf_token": self.csrf,
            "is_operator": self.operator,
            # Operators see that decisions rest on country groups nobody signed off.
            "unreviewed_country_groups": not country_groups().reviewed,
        }


async def viewer(request: Request[Any, Any, Any], runtime: Runtime) -> Viewer:
    session = await current_session(request, runtime)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInFirst(f"/login?return_to={quote(target, safe='')}")
    async with runtime.pool.acquire() as conn:
        operator = await is_operator(conn, session.user_id, runtime.settings.config.operators)
    return Viewer(session=session, operator=operator, csrf=csrf_token(session))


async def operator_viewer(request: Request[Any, Any, Any], runtime: Runtime) -> Viewer:
    seen = await viewer(request, runtime)
    if not seen.operator:
        raise Forbidden("this page is for the provider's compliance operators")
    return seen
