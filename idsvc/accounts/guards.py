"""Guards for browser-session routes, declared on the route (``guards=[signed_in]``).

A guard authenticates before the handler's dependencies are resolved, so an anonymous or
forged request never takes a connection for its transaction. It leaves what it established
in the request's state, from where handlers receive it as ``session`` and ``actor``
(``idsvc.http.inject``).

The CSRF rule follows the method: a request that may change state (anything but GET and
HEAD) must send ``X-CSRF-Token``. A cross-site page can make the browser send the cookie,
but cannot read the token to send it back.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from idsvc.accounts.operators import is_operator
from idsvc.accounts.sessions import Session, csrf_valid, load_session, session_cookie_name
from idsvc.errors import CsrfFailed, Forbidden, SignInRequired, Unauthenticated
from idsvc.http.inject import Infrastructure, infrastructure, set_actor

__all__ = [
    "current_session",
    "operator_only",
    "provide_maybe_session",
    "provide_session",
    "signed_in",
    "signed_in_form",
]

_SESSION_KEY = "idsvc_session"
_SAFE_METHODS = frozenset({"GET", "HEAD"})

AnyConnection = ASGIConnection[Any, Any, Any, Any]


async def current_session(connection: AnyConnection, infra: Infrastructure) -> Session | None:
    """The session the request's cookie names, if it is live."""
    service = infra.settings.service
    cookie = connection.cookies.get(session_cookie_name(service.cookie_secure))
    if not cookie:
        return None
    async with infra.database.connection() as conn:
        return await load_session(
            conn, cookie, now=infra.clock(), idle_timeout=service.session_idle_timeout
        )


async def require_session(connection: AnyConnection) -> Session:
    """The live session (401 without one; 403 for a state change without the CSRF
    header), remembered for the handler. Other guards build on it."""
    remembered = connection.state.get(_SESSION_KEY)
    if isinstance(remembered, Session):
        return remembered
    session = await _signed_in_session(connection)
    if _changing(connection) and not csrf_valid(session, connection.headers.get("x-csrf-token")):
        raise CsrfFailed("missing or wrong X-CSRF-Token header")
    _remember(connection, session)
    return session


async def signed_in_form(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """Guard for HTML forms: a signed-in person, and on a state change the form's own
    ``csrf_token`` field (a form post cannot send a header). The form is parsed here and
    kept by Litestar for the handler."""
    session = await _signed_in_session(connection, required=SignInRequired)
    if _changing(connection):
        if not isinstance(connection, Request):
            raise TypeError("signed_in_form guards HTTP routes only")
        presented = (await connection.form()).get("csrf_token")
        if not csrf_valid(session, presented if isinstance(presented, str) else None):
            raise CsrfFailed("the form is stale or came from another site")
    _remember(connection, session)


async def _signed_in_session(
    connection: AnyConnection, required: type[Unauthenticated] = Unauthenticated
) -> Session:
    session = await current_session(connection, infrastructure(connection))
    if session is None:
        raise required("sign in first")
    return session


def _changing(connection: AnyConnection) -> bool:
    return connection.scope.get("method") not in _SAFE_METHODS


def _remember(connection: AnyConnection, session: Session) -> None:
    connection.state[_SESSION_KEY] = session
    set_actor(connection, f"user:{session.user_id}")


async def signed_in(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """Guard: a signed-in person (and the CSRF header on a state change)."""
    await require_session(connection)


async def operator_only(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """Guard: a signed-in compliance operator."""
    session = await require_session(connection)
    infra = infrastructure(connection)
    async with infra.database.connection() as conn:
        if not await is_operator(conn, session.user_id, infra.settings.config.operators):
            raise Forbidden("operators only")


async def provide_maybe_session(request: AnyConnection) -> Session | None:
    """For pages that show something else to a visitor who is not signed in."""
    remembered = request.state.get(_SESSION_KEY)
    if isinstance(remembered, Session):
        return remembered
    return await current_session(request, infrastructure(request))


def provide_session(request: AnyConnection) -> Session:
    session = request.state.get(_SESSION_KEY)
    if not isinstance(session, Session):
        # A handler asked for a session its route's guards do not establish: a wiring
        # bug, refused rather than answered anonymously.
        raise RuntimeError(f"{request.url.path}: no guard established the session")
    return session
