"""The OAuth endpoints besides the token endpoint: device authorization (RFC 8628 §3.1),
introspection (RFC 7662), revocation (RFC 7009)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Request, Response, post

from idsvc.config.oauth import DEVICE_CODE
from idsvc.http.openapi import documented
from idsvc.jose.base64url import b64url_decode
from idsvc.oauth.device import start_device
from idsvc.oauth.errors import InvalidClient, UnauthorizedClient
from idsvc.oauth.form import DeviceAuthorizationForm, TokenLookupForm, read_form
from idsvc.oauth.grants import REFRESH_PREFIX, GrantRefused, find_grant, live_grant, revoke_grant
from idsvc.oauth.token_endpoint import authenticate_client
from idsvc.runtime import Runtime, RuntimeDependency
from idsvc.tokens.claims import EligibilityClaims
from idsvc.verify import DPoPRequired, VerificationError, Verifier

__all__ = ["oauth_routes"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class DeviceAuthorizationResponse(msgspec.Struct, frozen=True, kw_only=True):
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


@post(
    "/oauth2/device_authorization",
    status_code=200,
    opt=documented(form=DeviceAuthorizationForm),
)
async def device_authorization(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[DeviceAuthorizationResponse]:
    form = await read_form(request)
    client = await authenticate_client(runtime, request, form)
    if DEVICE_CODE not in client.grant_types:
        raise UnauthorizedClient("this client may not use the device flow")
    async with runtime.pool.acquire() as conn, conn.transaction():
        started = await start_device(
            conn, client_id=client.id, settings=runtime.settings.config.oauth, now=runtime.clock()
        )
    page = f"{runtime.settings.service.issuer}/device"
    return Response(
        DeviceAuthorizationResponse(
            device_code=started.device_code,
            user_code=started.display_code,
            verification_uri=page,
            verification_uri_complete=f"{page}?user_code={started.display_code}",
            expires_in=started.expires_in,
            interval=started.interval,
        ),
        headers=_NO_STORE,
    )


async def _introspect_refresh_token(
    runtime: Runtime, token: str, client_id: str
) -> dict[str, object]:
    async with runtime.pool.acquire() as conn:
        grant = await live_grant(conn, token, client_id=client_id, now=runtime.clock())
    if grant is None:
        return {"active": False}
    return {"active": True, "token_type": "refresh_token", "client_id": grant.client_id}


def _unverified_audience(token: str) -> str | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, RecursionError):
        return None
    aud = claims.get("aud") if isinstance(claims, dict) else None
    return aud if isinstance(aud, str) else None


_SLOT_STATUS = "SELECT status FROM token_statuses WHERE list_id = $1 AND idx = $2"


async def _introspect_eligibility_token(runtime: Runtime, token: str) -> dict[str, object]:
    audience = _unverified_audience(token)
    if audience is None or audience not in runtime.policies:
        return {"active": False}
    now = runtime.clock()
    jwks, _etag = runtime.keys.ring.jwks(now)
    issuer = runtime.settings.service.issuer
    verifier = Verifier(
        issuer=issuer,
        audience=audience,
        jwks=json.loads(jwks),
        clock=now.timestamp,
        # The status is read from the database below, not fetched from ourselves.
        check_status=False,
    )
    try:
        claims = verifier.verify(token)
    except DPoPRequired:
        # The verifier checks DPoP after everything else: the token itself is valid, and
        # introspection has no request to hold a proof against. Report its binding.
        claims = msgspec.json.decode(b64url_decode(token.split(".")[1]), type=EligibilityClaims)
    except VerificationError:
        return {"active": False}
    if claims.status is not None:
        reference = claims.status.status_list
        list_id = reference.uri.removeprefix(f"{issuer}/status-lists/")
        if not list_id.isdigit():
            return {"active": False}
        async with runtime.pool.acquire() as conn:
            status = await conn.fetchval(_SLOT_STATUS, int(list_id), reference.idx)
        if status != 0:  # revoked, suspended, or a slot we never allocated
            return {"active": False}
    return {"active": True, "token_type": "eligibility+jwt", **msgspec.to_builtins(claims)}


@post("/oauth2/introspect", status_code=200, opt=documented(form=TokenLookupForm))
async def introspect(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[dict[str, object]]:
    form = await read_form(request)
    client = await authenticate_client(runtime, request, form)
    if client.type != "confidential":
        # RFC 7662 §4: introspection must not become a token-scanning oracle.
        raise InvalidClient("introspection needs a confidential client")
    token = form.get("token", "")
    if token.startswith(REFRESH_PREFIX):
        answer = await _introspect_refresh_token(runtime, token, client.id)
    else:
        answer = await _introspect_eligibility_token(runtime, token)
    return Response(answer, headers=_NO_STORE)


@post("/oauth2/revoke", status_code=200, opt=documented(form=TokenLookupForm))
async def revoke(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[None]:
    """RFC 7009: revoking a refresh token ends its whole grant. Unknown tokens get 200 too
    (§2.2), so the endpoint says nothing about which tokens exist."""
    form = await read_form(request)
    client = await authenticate_client(runtime, request, form)
    token = form.get("token", "")
    if token.startswith(REFRESH_PREFIX):
        now = runtime.clock()
        async with runtime.pool.acquire() as conn, conn.transaction():
            try:
                grant = await find_grant(conn, token, client_id=client.id, now=now)
            except GrantRefused:
                grant = None
            if grant is not None:
                await revoke_grant(
                    conn, grant.id, reason="revoked_by_client", actor=f"client:{client.id}", now=now
                )
    return Response(None, status_code=200, headers=_NO_STORE)


oauth_routes = [device_authorization, introspect, revoke]
