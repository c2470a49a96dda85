"""Who is looking at a console page, as guards declared on the routes.

Signed-out visitors are sent to sign in and brought back; signed-in people who may not see
a page get a 403 page, never its content. A guard leaves the :class:`Viewer` in the
request's state, from where handlers receive it as ``viewer`` (:func:`provide_viewer`).

Console forms carry their CSRF token in the form field ``csrf_token`` (a form post cannot
send a header): :func:`form_csrf` checks it after the audience guard, so a person who may
not see the page learns that first, exactly as before the guards existed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from idsvc.accounts.guards import current_session
from idsvc.accounts.operators import is_operator
from idsvc.accounts.sessions import Session, csrf_token, csrf_valid
from idsvc.console.errors import FormTooLarge
from idsvc.errors import CsrfFailed, Forbidden, IdsvcError
from idsvc.http.inject import infrastructure, set_actor
from idsvc.policy.country_groups import groups_file_in_use

__all__ = [
    "FORM_LIMIT_OPT",
    "MAX_FORM_BYTES",
    "SignInFirst",
    "Viewer",
    "form_csrf",
    "operator_viewer",
    "provide_viewer",
    "require_viewer",
    "signed_in_viewer",
]

AnyConnection = ASGIConnection[Any, Any, Any, Any]

_VIEWER_KEY = "idsvc_console_viewer"
_SAFE_METHODS = frozenset({"GET", "HEAD"})

MAX_FORM_BYTES = 64 * 1024
# Route ``opt`` key: the form size this route checks itself before parsing, or None when
# the route's ``request_max_body_size`` bounds the upload instead (the CSV forms).
FORM_LIMIT_OPT = "console_form_limit"


class SignInFirst(IdsvcError):
    """Answered with a redirect to the sign-in page (see the console's exception handler)."""

    status = 303
    code = "sign_in_first"


class Viewer(msgspec.Struct, frozen=True, kw_only=True):
    session: Session
    operator: bool
    csrf: str
    # Decisions rest on country groups without a valid sign-off (development allows it).
    unreviewed_country_groups: bool
    # One operator decides alone (four eyes off: development only).
    four_eyes_waived: bool = False

    def page_context(self) -> dict[str, Any]:
        return {
            "signed_in": True,
            "csrf_token": self.csrf,
            "is_operator": self.operator,
            # Operators see that decisions rest on country groups nobody signed off.
            "unreviewed_country_groups": self.unreviewed_country_groups,
            "four_eyes_waived": self.four_eyes_waived,
        }


async def require_viewer(connection: AnyConnection) -> Viewer:
    """The signed-in viewer (a redirect to sign in without one), remembered for the
    handler and for the guards that build on it."""
    remembered = connection.state.get(_VIEWER_KEY)
    if isinstance(remembered, Viewer):
        return remembered
    infra = infrastructure(connection)
    session = await current_session(connection, infra)
    if session is None:
        url = connection.url
        target = url.path + (f"?{url.query}" if url.query else "")
        raise SignInFirst(f"/login?return_to={quote(target, safe='')}")
    async with infra.database.connection() as conn:
        operator = await is_operator(conn, session.user_id, infra.settings.config.operators)
    seen = Viewer(
        session=session,
        operator=operator,
        csrf=csrf_token(session),
        unreviewed_country_groups=groups_file_in_use().sign_off_problem(
            infra.clock(), four_eyes=infra.settings.config.compliance.four_eyes
        )
        is not None,
        four_eyes_waived=not infra.settings.config.compliance.four_eyes,
    )
    connection.state[_VIEWER_KEY] = seen
    set_actor(connection, f"user:{session.user_id}")
    return seen


async def signed_in_viewer(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """Guard: anyone signed in (pages that show each person their own)."""
    await require_viewer(connection)


async def operator_viewer(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """Guard: the provider's compliance operators."""
    seen = await require_viewer(connection)
    if not seen.operator:
        raise Forbidden("this page is for the provider's compliance operators")


async def form_csrf(connection: AnyConnection, route: BaseRouteHandler) -> None:
    """Guard, after the audience guard: a posted form is not too large and carries the
    viewer's CSRF token. A stale or cross-site form is refused before anything is read into
    the application. The parsed form is kept by Litestar for the handler."""
    if connection.scope.get("method") in _SAFE_METHODS:
        return
    if not isinstance(connection, Request):
        raise TypeError("form_csrf guards HTTP routes only")
    seen = await require_viewer(connection)
    limit = route.opt.get(FORM_LIMIT_OPT, MAX_FORM_BYTES)
    if limit is not None and int(connection.headers.get("content-length") or 0) > limit:
        raise FormTooLarge("the form is too large")
    token = (await connection.form()).get("csrf_token")
    if not csrf_valid(seen.session, token if isinstance(token, str) else None):
        raise CsrfFailed("the form is stale or came from another site; reload the page")


def provide_viewer(request: AnyConnection) -> Viewer:
    seen = request.state.get(_VIEWER_KEY)
    if not isinstance(seen, Viewer):
        # A handler asked for a viewer its route's guards do not establish: a wiring bug,
        # refused rather than answered anonymously.
        raise RuntimeError(f"{request.url.path}: no console guard established the viewer")
    return seen
