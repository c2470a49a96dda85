"""The console under ``/console``: the operators' pages and the org admins' pages, which
answer errors with pages, not JSON, and receive who is looking as ``viewer`` (set by the
guards of ``idsvc.console.guard``)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.response import Redirect

from idsvc.console.api import routes as home_routes
from idsvc.console.guard import SignInFirst, provide_viewer
from idsvc.console.operator.api import routes as operator_routes
from idsvc.console.org_admin.api import routes as org_admin_routes
from idsvc.console.org_admin.pages import provide_org_admin_pages
from idsvc.errors import IdsvcError
from idsvc.http.pages import page

__all__ = ["console_router"]

_ADVICE = {
    403: "Your account may not see this page. If you think it should, ask an operator.",
    404: "It may have been removed, or it belongs to an organisation you do not administer.",
}


def _error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, SignInFirst):
        return Redirect(exc.detail, status_code=303)
    if isinstance(exc, IdsvcError):
        status, message, reason = exc.status, exc.detail, exc.code
    elif isinstance(exc, HTTPException) and exc.status_code < 500:
        status, message, reason = exc.status_code, str(exc.detail), "request_refused"
    else:
        raise exc  # the app's handler logs it and answers a bare 500
    return page(
        "error.html",
        title="Not allowed"
        if status == 403
        else ("Not found" if status == 404 else "That did not work"),
        status=status,
        message=message,
        advice=_ADVICE.get(status, "Go back and try again."),
        reason=reason,
        back="/console",
        back_label="Back to the console",
    )


console_router = Router(
    path="/console",
    route_handlers=[*home_routes, *operator_routes, *org_admin_routes],
    dependencies={
        "viewer": Provide(provide_viewer, sync_to_thread=False),
        "org_pages": Provide(provide_org_admin_pages, sync_to_thread=False),
    },
    exception_handlers={IdsvcError: _error_page, HTTPException: _error_page},
)
