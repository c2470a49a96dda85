"""The OAuth endpoints over HTTP: the token endpoint (device-code, refresh-token and
token-exchange grants: ``oauth.service``), device authorization (RFC 8628 §3.1) and its
verification page (§3.3), introspection (RFC 7662), revocation (RFC 7009), and the
authorization server metadata (RFC 8414)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Template

from idsvc.accounts.guards import signed_in_form
from idsvc.accounts.sessions import Session, csrf_token
from idsvc.config.oauth import DEVICE_CODE, GRANT_TYPES, ClientSettings
from idsvc.crypto.opaque import normalize_user_code
from idsvc.db.database import Database
from idsvc.http.inject import Injected, Now, Transaction
from idsvc.http.openapi import documented
from idsvc.http.pages import page
from idsvc.http.ratelimit import RateLimiter
from idsvc.keys.service import KeyService
from idsvc.oauth.client_auth import ASSERTION_ALGORITHMS, CONFIDENTIAL_AUTH_METHODS, ClientRegistry
from idsvc.oauth.device import decide_device, pending_device, start_device
from idsvc.oauth.errors import InvalidClient, OAuthError, UnauthorizedClient
from idsvc.oauth.form import DeviceAuthorizationForm, TokenForm, TokenLookupForm
from idsvc.oauth.guards import Form, oauth_client
from idsvc.oauth.introspection import introspect_token, revoke_token
from idsvc.oauth.service import TokenEndpoint, TokenEndpointRequest, TokenResponse
from idsvc.oidc.service import SignInService
from idsvc.policy.model import PolicySettings
from idsvc.settings import Settings

__all__ = ["DPOP_ALGORITHMS", "TokenResponse", "routes"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Proof algorithms the DPoP checks accept (the verifier's allow-list).
DPOP_ALGORITHMS = ("ES256", "EdDSA", "RS256")


@post("/oauth2/token", status_code=200, guards=[oauth_client], opt=documented(form=TokenForm))
async def token_endpoint(
    *,
    request: Request[Any, Any, Any],
    client: Injected[ClientSettings],
    form: Form,
    token_endpoint: Injected[TokenEndpoint],
    settings: Injected[Settings],
) -> Response[TokenResponse]:
    headers = token_endpoint.response_headers()
    try:
        issued = await token_endpoint.token(
            TokenEndpointRequest(
                client=client,
                form=form,
                proofs=request.headers.getall("dpop", []),
                url=f"{settings.service.issuer}{request.url.path}",
            )
        )
    except OAuthError as exc:
        exc.headers.update(headers)
        raise
    return Response(issued, headers=headers)


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
    guards=[oauth_client],
    opt=documented(form=DeviceAuthorizationForm),
)
async def device_authorization(
    *, client: Injected[ClientSettings], settings: Injected[Settings], conn: Transaction, now: Now
) -> Response[DeviceAuthorizationResponse]:
    if DEVICE_CODE not in client.grant_types:
        raise UnauthorizedClient("this client may not use the device flow")
    started = await start_device(conn, client_id=client.id, settings=settings.config.oauth, now=now)
    page_url = f"{settings.service.issuer}/device"
    return Response(
        DeviceAuthorizationResponse(
            device_code=started.device_code,
            user_code=started.display_code,
            verification_uri=page_url,
            verification_uri_complete=f"{page_url}?user_code={started.display_code}",
            expires_in=started.expires_in,
            interval=started.interval,
        ),
        headers=_NO_STORE,
    )


@post(
    "/oauth2/introspect",
    status_code=200,
    guards=[oauth_client],
    opt=documented(form=TokenLookupForm),
)
async def introspect(
    *,
    client: Injected[ClientSettings],
    form: Form,
    settings: Injected[Settings],
    keys: Injected[KeyService],
    policies: Injected[dict[str, PolicySettings]],
    database: Injected[Database],
    now: Now,
) -> Response[dict[str, object]]:
    if client.type != "confidential":
        # RFC 7662 §4: introspection must not become a token-scanning oracle.
        raise InvalidClient("introspection needs a confidential client")
    async with database.connection() as conn:
        answer = await introspect_token(
            conn,
            form.get("token", ""),
            client=client,
            issuer=settings.service.issuer,
            keys=keys,
            policies=policies,
            now=now,
        )
    return Response(answer, headers=_NO_STORE)


@post(
    "/oauth2/revoke", status_code=200, guards=[oauth_client], opt=documented(form=TokenLookupForm)
)
async def revoke(
    *, client: Injected[ClientSettings], form: Form, conn: Transaction, now: Now
) -> Response[None]:
    """RFC 7009: revoking a refresh token ends its whole grant. Unknown tokens get 200 too
    (§2.2), so the endpoint says nothing about which tokens exist."""
    await revoke_token(conn, form.get("token", ""), client=client, now=now)
    return Response(None, status_code=200, headers=_NO_STORE)


@get("/.well-known/oauth-authorization-server")
async def authorization_server_metadata(
    *, settings: Injected[Settings]
) -> Response[dict[str, object]]:
    issuer = settings.service.issuer
    metadata: dict[str, object] = {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "token_endpoint": f"{issuer}/oauth2/token",
        "device_authorization_endpoint": f"{issuer}/oauth2/device_authorization",
        "introspection_endpoint": f"{issuer}/oauth2/introspect",
        "revocation_endpoint": f"{issuer}/oauth2/revoke",
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": ["none", *CONFIDENTIAL_AUTH_METHODS],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "introspection_endpoint_auth_methods_supported": list(CONFIDENTIAL_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": ["none", *CONFIDENTIAL_AUTH_METHODS],
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
        "token_signing_alg_values_supported": list(settings.config.keys.algorithms),
        # Eligibility tokens are per audience (RFC 8707 resource), not per scope.
        "scopes_supported": [],
        "resource_indicators_supported": True,
    }
    return Response(metadata, headers={"Cache-Control": "public, max-age=3600"})


_UNKNOWN = "That code is unknown, expired or already used: start again in your terminal."


def _display(code: str | None) -> str:
    return f"{code[:4]}-{code[4:]}" if code else ""


def _client_name(clients: ClientRegistry, client_id: str) -> str:
    client = clients.clients.get(client_id)
    return (client.name or client.id) if client else client_id


@get("/device", include_in_schema=False)
async def device_page(
    *,
    request: Request[Any, Any, Any],
    maybe_session: Injected[Session | None],
    signin: Injected[SignInService],
    clients: Injected[ClientRegistry],
    database: Injected[Database],
    now: Now,
) -> Template:
    typed = request.query_params.get("user_code", "")[:20]
    code = normalize_user_code(typed)
    session = maybe_session
    context: dict[str, Any] = {
        "user_code": _display(code) or typed,
        "signed_in": session is not None,
        "providers": list(signin.providers.values()),
        "return_to": f"/device?user_code={_display(code)}" if code else "/device",
        "csrf_token": csrf_token(session) if session else "",
    }
    if session is not None and typed:
        async with database.connection() as conn:
            client_id = await pending_device(conn, typed, now)
        if client_id is None:
            context["error"] = _UNKNOWN
        else:
            context["client_name"] = _client_name(clients, client_id)
    return page("device.html", title="Connect a device", **context)


@post("/device", include_in_schema=False, status_code=200, guards=[signed_in_form])
async def device_decision(
    *,
    request: Request[Any, Any, Any],
    session: Injected[Session],
    token_limiter: Injected[RateLimiter],
    clients: Injected[ClientRegistry],
    conn: Transaction,
    now: Now,
) -> Response[Any]:
    form = await request.form()
    # Guessing codes needs many tries: each person gets the token-request budget.
    await token_limiter.hit(f"device:{session.user_id}")
    typed = str(form.get("user_code", ""))[:20]
    approve = form.get("decision") == "approve"
    client_id = await decide_device(
        conn, typed_code=typed, user_id=session.user_id, approve=approve, now=now
    )
    if client_id is None:
        return page(
            "device.html",
            title="Connect a device",
            status=400,
            signed_in=True,
            user_code=typed,
            error=_UNKNOWN,
            csrf_token=csrf_token(session),
        )
    return page(
        "device.html",
        title="Connect a device",
        signed_in=True,
        outcome="approved" if approve else "denied",
        client_name=_client_name(clients, client_id),
    )


routes = [
    token_endpoint,
    device_authorization,
    introspect,
    revoke,
    authorization_server_metadata,
    device_page,
    device_decision,
]
