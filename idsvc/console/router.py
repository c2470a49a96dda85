"""The console under ``/console``: its pages answer errors with pages, not JSON."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router
from litestar.exceptions import HTTPException
from litestar.response import Redirect

from idsvc.console.admin_pages import admin_pages
from idsvc.console.audit_pages import audit_pages
from idsvc.console.guard import SignInFirst
from idsvc.console.operator_pages import operator_pages
from idsvc.console.org_pages import org_pages
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
    route_handlers=[*operator_pages, *audit_pages, *org_pages, *admin_pages],
    exception_handlers={IdsvcError: _error_page, HTTPException: _error_page},
)
