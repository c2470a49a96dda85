"""Every error leaves the service as an RFC 9457 problem (``application/problem+json``).

This is the one place where errors meet HTTP. ``type`` is a stable URN per error code so
clients can switch on it; ``detail`` is for people. Unexpected exceptions become a bare 500
without a trace; the trace goes to the log under the request id.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from idsvc.db import is_database_outage, is_transient_conflict
from idsvc.errors import IdsvcError, RateLimited

if TYPE_CHECKING:
    from litestar.types import ExceptionHandlersMap

__all__ = ["PROBLEM_MEDIA_TYPE", "exception_handlers", "problem_response", "problem_type"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
# What a 503 tells clients to wait: a PostgreSQL restart or failover takes seconds.
RETRY_AFTER_SECONDS = 5
_log = logging.getLogger("idsvc.http")

# Litestar's own exceptions carry only a status; give each a stable code.
_CODES_BY_STATUS = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}
_TITLES = {
    "invalid_request": "Invalid request",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "payload_too_large": "Request body too large",
    "internal_error": "Internal error",
}


def problem_type(code: str) -> str:
    return f"urn:idsvc:problem:{code}"


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    request: Request[Any, Any, Any] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": problem_type(code), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _idsvc_error(request: Request[Any, Any, Any], exc: IdsvcError) -> Response[dict[str, Any]]:
    headers = dict(exc.headers)
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    elif exc.status == 503:
        headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    return problem_response(
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        request=request,
        headers=headers,
        **exc.extra,
    )


def _http_exception(
    request: Request[Any, Any, Any], exc: HTTPException
) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:
        return _unexpected(request, exc)
    code = _CODES_BY_STATUS.get(status, "client_error")
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        # Litestar lists the failing field and msgspec's reason, never the value sent.
        extra["errors"] = [
            {"field": item.get("key"), "message": item.get("message"), "source": item.get("source")}
            for item in exc.extra
            if isinstance(item, dict)
        ]
    detail = exc.detail if exc.detail and exc.detail != _default_detail(status) else None
    return problem_response(
        status=status,
        code=code,
        title=_TITLES.get(code, code.replace("_", " ").capitalize()),
        detail=detail,
        request=request,
        headers=dict(exc.headers) if exc.headers else None,
        **extra,
    )


def _default_detail(status: int) -> str:
    return HTTPStatus(status).phrase


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if is_database_outage(exc):
        # Fail closed, and say so: nothing was decided or issued, try again shortly.
        _log.warning("database unavailable", extra={"error": type(exc).__name__})
        return problem_response(
            status=503,
            code="database_unavailable",
            title="Service unavailable",
            detail="The database cannot be reached; nothing was changed. Try again shortly.",
            request=request,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if is_transient_conflict(exc):
        _log.warning("transaction aborted by a concurrent one", extra={"error": type(exc).__name__})
        return problem_response(
            status=503,
            code="concurrent_change",
            title="Service unavailable",
            detail="A concurrent change got in the way; nothing was changed. Try again.",
            request=request,
            headers={"Retry-After": "1"},
        )
    _log.error("unhandled error", exc_info=exc)
    return problem_response(
        status=HTTP_500_INTERNAL_SERVER_ERROR,
        code="internal_error",
        title="Internal error",
        detail="The service could not complete the request; it has been logged.",
        request=request,
    )


exception_handlers: ExceptionHandlersMap = {
    IdsvcError: _idsvc_error,
    HTTPException: _http_exception,
    Exception: _unexpected,
}
