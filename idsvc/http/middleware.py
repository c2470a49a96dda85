"""One ASGI middleware for every HTTP request: request id, access log line, metrics.

A plain ASGI callable wrapped around Litestar's ASGI handler (see ``create_app``), so it
sees the router's own 404/405 answers too and measures the whole request.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from litestar.enums import ScopeType

from idsvc.http.control_chars import query_has_control_character
from idsvc.http.logs import REQUEST_ID
from idsvc.http.tracing import RequestTracer

if TYPE_CHECKING:
    from litestar.types import (
        ASGIApp,
        HTTPResponseBodyEvent,
        HTTPResponseStartEvent,
        Message,
        Receive,
        Scope,
        Send,
    )

    from idsvc.http.metrics import HttpMetrics

__all__ = ["Refusal", "RequestObserver", "problem_refusal"]

# (path, status, code, detail) -> (media type, body) of a refusal made before routing.
Refusal = Callable[[str, int, str, str], tuple[bytes, bytes]]

_log = logging.getLogger("idsvc.access")
# An incoming id is echoed into logs and headers, so only a short, plain token is trusted.
_SAFE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{8,64}$")


class RequestObserver:
    """Request ids, metrics and the access log for every request; and the headers every
    response carries (``always``: Strict-Transport-Security on an https deployment)."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: HttpMetrics,
        always: tuple[tuple[bytes, bytes], ...] = (),
        tracer: RequestTracer | None = None,
        refusal: Refusal | None = None,
    ) -> None:
        self.app = app
        # How a refusal made here is written (the SCIM error schema under /scim/v2).
        self.refusal = refusal or problem_refusal
        self.metrics = metrics
        self.always = always
        self.tracer = tracer or RequestTracer(None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        request_id = _request_id(scope)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(self.always)
                message["headers"] = headers
            await send(message)

        with self.tracer.span(method, scope["headers"]) as span:
            try:
                if query_has_control_character(scope.get("query_string", b"")):
                    # Before routing: no handler, and no SQL, ever sees such a query.
                    await self._refuse_query(send_with_id, scope)
                else:
                    await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                # The route template, never the raw path: paths can carry ids and codes.
                route = scope.get("path_template") or _mount_route(scope) or "unmatched"
                self.tracer.finish(span, method, route, status, request_id)
                self._observe(method, route, status, elapsed)
                REQUEST_ID.reset(token)

    async def _refuse_query(self, send: Send, scope: Scope) -> None:
        media_type, body = self.refusal(
            scope.get("path", ""),
            400,
            "control_characters",
            "the query string must not contain NUL or other control characters",
        )
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", media_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
        end: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": body,
            "more_body": False,
        }
        await send(start)
        await send(end)

    def _observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        self.metrics.observe(method, route, status, elapsed)
        _log.info(
            "request",
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )


def problem_refusal(path: str, status: int, code: str, detail: str) -> tuple[bytes, bytes]:
    """(media type, body) of an RFC 9457 problem."""
    body = {
        "type": f"urn:idsvc:problem:{code}",
        "title": "Bad request",
        "status": status,
        "detail": detail,
        "instance": path,
    }
    return b"application/problem+json", json.dumps(body).encode()


def _mount_route(scope: Scope) -> str | None:
    """A mounted ASGI app (the demo provider) leaves no path template: name the mount."""
    handler = scope.get("route_handler")
    if handler is None or not getattr(handler, "is_mount", False):
        return None
    return f"{min(handler.paths)}/*"


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and _SAFE_REQUEST_ID.match(value):
            return value.decode()
    return secrets.token_hex(8)
