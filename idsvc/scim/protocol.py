"""The SCIM protocol around every /scim/v2 route: bounded JSON bodies, responses and
errors in SCIM's own media type and error schema (RFC 7644 §3.12). The bearer token is
checked by the routes' guard (``idsvc.scim.guards``)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

from idsvc.errors import IdsvcError
from idsvc.http.middleware import Refusal
from idsvc.scim.errors import InvalidSyntax
from idsvc.scim.resources import ERROR_SCHEMA
from idsvc.settings import Settings

__all__ = [
    "MEDIA_TYPE",
    "SCIM_PATH",
    "read_body",
    "scim_aware_refusal",
    "scim_base",
    "scim_error",
    "scim_response",
]

SCIM_PATH = "/scim/v2"
MEDIA_TYPE = "application/scim+json"
_MAX_BODY = 64 * 1024
# The SCIM error types (RFC 7644 §3.12) that idsvc's codes map to.
_SCIM_TYPES = {
    "invalidFilter",
    "invalidPath",
    "invalidSyntax",
    "invalidValue",
    "noTarget",
    "uniqueness",
    "mutability",
}


def scim_base(settings: Settings) -> str:
    """The base URL SCIM clients are given and resources' locations start with."""
    return f"{settings.service.issuer}{SCIM_PATH}"


def scim_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response[Any]:
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def scim_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A refusal in the SCIM error schema (RFC 7644 §3.12). The app also answers unknown
    paths and methods under /scim/v2 with it: SCIM clients read no other error format."""
    if isinstance(exc, IdsvcError):
        status, detail, code = exc.status, exc.detail, exc.code
    elif isinstance(exc, HTTPException) and exc.status_code < 500:
        status, detail, code = exc.status_code, str(exc.detail), ""
    else:
        raise exc
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if code in _SCIM_TYPES:
        body["scimType"] = code
    headers = {"WWW-Authenticate": 'Bearer realm="idsvc-scim"'} if status == 401 else None
    return scim_response(body, status, headers)


def scim_aware_refusal(fallback: Refusal) -> Refusal:
    """A refusal made before routing (idsvc.http.middleware), in the SCIM error schema
    under /scim/v2 and ``fallback``'s format elsewhere."""

    def refuse(path: str, status: int, code: str, detail: str) -> tuple[bytes, bytes]:
        if path != SCIM_PATH and not path.startswith(f"{SCIM_PATH}/"):
            return fallback(path, status, code, detail)
        body = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
        return MEDIA_TYPE.encode(), json.dumps(body).encode()

    return refuse


async def read_body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise InvalidSyntax("request too large")
    try:
        body = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):  # RecursionError: absurdly deep nesting
        raise InvalidSyntax("the body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidSyntax("the body must be a JSON object")
    return body
