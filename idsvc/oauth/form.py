"""Reading ``application/x-www-form-urlencoded`` token-endpoint requests strictly."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar import Request

from idsvc.oauth.errors import OAuthInvalidRequest

__all__ = ["read_form"]

# Enough for an ID token as subject_token and a client assertion.
_MAX_FORM_BYTES = 32 * 1024
_MAX_VALUE = 16 * 1024


async def read_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthInvalidRequest("send application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        raise OAuthInvalidRequest("request too large")
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise OAuthInvalidRequest("malformed form body") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        # RFC 6749 §3.2: parameters must not be repeated (a second `resource` would
        # otherwise ask for two audiences, which one token cannot carry).
        if name in form:
            raise OAuthInvalidRequest(f"parameter {name} sent more than once")
        if len(value) > _MAX_VALUE or len(name) > 64:
            raise OAuthInvalidRequest(f"parameter {name[:64]} too long")
        form[name] = value
    return form
