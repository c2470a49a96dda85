"""The browser session behind a request, and the CSRF rule for state changes."""

from __future__ import annotations

from typing import Any

from litestar import Request

from idsvc.accounts.sessions import Session, csrf_valid, load_session, session_cookie_name
from idsvc.errors import CsrfFailed, Unauthenticated
from idsvc.runtime import Runtime

__all__ = ["current_session", "require_session"]


async def current_session(request: Request[Any, Any, Any], runtime: Runtime) -> Session | None:
    cookie = request.cookies.get(session_cookie_name(runtime.settings.service.cookie_secure))
    if not cookie:
        return None
    async with runtime.pool.acquire() as conn:
        return await load_session(
            conn,
            cookie,
            now=runtime.clock(),
            idle_timeout=runtime.settings.service.session_idle_timeout,
        )


async def require_session(
    request: Request[Any, Any, Any], runtime: Runtime, *, changing: bool
) -> Session:
    """The session, or 401. A state change also needs ``X-CSRF-Token``: a cross-site page
    can make the browser send the cookie, but cannot read the token to send it back."""
    session = await current_session(request, runtime)
    if session is None:
        raise Unauthenticated("sign in first")
    if changing and not csrf_valid(session, request.headers.get("x-csrf-token")):
        raise CsrfFailed("missing or wrong X-CSRF-Token header")
    return session
