"""Reading ``application/x-www-form-urlencoded`` token-endpoint requests strictly."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request

from idsvc.oauth.errors import OAuthInvalidRequest

__all__ = ["DeviceAuthorizationForm", "TokenForm", "TokenLookupForm", "read_form"]

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


# What the endpoints read, for the OpenAPI document (idsvc.http.openapi). read_form stays
# the parser: RFC 6749 needs repeated parameters refused, which a struct cannot see.
_Value = Annotated[str, msgspec.Meta(max_length=_MAX_VALUE)]


class _ClientAuthentication(msgspec.Struct, frozen=True, kw_only=True):
    client_id: _Value | None = None
    client_secret: _Value | None = None
    client_assertion_type: _Value | None = None
    client_assertion: _Value | None = None


class TokenForm(_ClientAuthentication, frozen=True, kw_only=True):
    """``POST /oauth2/token``: the device-code, refresh-token and token-exchange grants."""

    grant_type: _Value
    device_code: _Value | None = None
    refresh_token: _Value | None = None
    subject_token: _Value | None = None
    subject_token_type: _Value | None = None
    requested_token_type: _Value | None = None
    resource: _Value | None = None
    audience: _Value | None = None


class DeviceAuthorizationForm(_ClientAuthentication, frozen=True, kw_only=True):
    """``POST /oauth2/device_authorization`` (RFC 8628 section 3.1)."""


class TokenLookupForm(_ClientAuthentication, frozen=True, kw_only=True):
    """``POST /oauth2/introspect`` (RFC 7662) and ``/oauth2/revoke`` (RFC 7009)."""

    token: _Value
    token_type_hint: _Value | None = None
