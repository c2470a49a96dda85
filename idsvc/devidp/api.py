"""HTTP endpoints of the demo provider. Paths are relative to wherever the app is served."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from authlib.oauth2 import OAuth2Error
from litestar import Request, Response, get, post, route
from litestar.di import NamedDependency
from litestar.enums import HttpMethod, MediaType
from litestar.response import Template

from idsvc.devidp.claims import standard_claims, verified_claims
from idsvc.devidp.metadata import (
    AUTHORIZE_PATH,
    DISCOVERY_PATH,
    JWKS_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
)
from idsvc.devidp.pages import chooser_page, error_page, index_page
from idsvc.devidp.personas import find_persona
from idsvc.devidp.provider import DemoIdP
from idsvc.devidp.server import OAuthRequest, OAuthResponse
from idsvc.devidp.store import AccessGrant, PendingAuthorization

if TYPE_CHECKING:
    from collections.abc import Iterable

    from litestar.datastructures import FormMultiDict

__all__ = ["ROUTES"]

# A real authorization request is well under 2 KiB; the cap bounds what a pending
# transaction can hold in memory.
MAX_QUERY_STRING = 8192
_NO_STORE = {"Cache-Control": "no-store"}


def _text_items(form: FormMultiDict) -> Iterable[tuple[str, str]]:
    # File parts have no place in OAuth requests; dropping them keeps Authlib on strings.
    return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]


def _json(document: object, headers: dict[str, str]) -> Response[bytes]:
    return Response(msgspec.json.encode(document), media_type=MediaType.JSON, headers=headers)


@get("/")
async def about(idp: NamedDependency[DemoIdP]) -> Template:
    return index_page(discovery_url=idp.endpoints.discovery)


@get(DISCOVERY_PATH)
async def discovery(idp: NamedDependency[DemoIdP]) -> Response[bytes]:
    return _json(idp.discovery, {"Cache-Control": "max-age=300"})


@get(JWKS_PATH)
async def jwks(idp: NamedDependency[DemoIdP]) -> Response[bytes]:
    return _json(idp.key.jwks(), {"Cache-Control": "max-age=300"})


@get(AUTHORIZE_PATH)
async def authorize(
    request: Request[Any, Any, Any], idp: NamedDependency[DemoIdP]
) -> Response[bytes] | Template:
    if len(request.scope["query_string"]) > MAX_QUERY_STRING:
        return error_page(
            status=400, title="This sign-in request is too long", message="It was not read."
        )
    params = tuple(request.query_params.multi_items())
    oauth_request = idp.authorization_request(params)
    try:
        grant = idp.server.get_consent_grant(oauth_request, end_user=None)
    except OAuth2Error as error:
        return idp.refuse(oauth_request, error)
    hinted = find_persona(request.query_params.get("login_hint"))
    if hinted is not None:
        # A persona id as login_hint signs in as that persona at once: scripts and curl
        # (README quick start) cannot click the chooser. Demo personas only; the sign-in
        # is still bound to the browser (cookie jar) that started it.
        hinted_response: OAuthResponse = idp.server.create_authorization_response(
            oauth_request, grant_user=hinted, grant=grant
        )
        return hinted_response.to_litestar()
    # The page's only credential is this random, single-use, expiring id; it is bound to
    # the validated request server-side, so no cookie is needed and a cross-site form
    # cannot name a request it never saw.
    transaction = idp.store.begin(PendingAuthorization(params=params))
    return chooser_page(
        action=idp.endpoints.authorization,
        transaction=transaction,
        client_id=grant.client.client_id,
        redirect_uri=grant.redirect_uri,
    )


@post(AUTHORIZE_PATH, status_code=303)
async def decide(
    request: Request[Any, Any, Any], idp: NamedDependency[DemoIdP]
) -> Response[bytes] | Template:
    form = dict(_text_items(await request.form()))
    cancelled = form.get("action") == "cancel"
    persona = None if cancelled else find_persona(form.get("persona"))
    if persona is None and not cancelled:
        return error_page(
            status=400, title="No persona chosen", message="Go back and choose a persona."
        )
    pending = idp.store.take(form.get("transaction", ""))
    if pending is None:
        return error_page(
            status=400,
            title="This sign-in page has expired",
            message="It was already used, or it was left open too long.",
        )
    oauth_request = idp.authorization_request(pending.params)
    try:
        # Authlib validates the stored request again and binds the persona to the code.
        grant = idp.server.get_consent_grant(oauth_request, end_user=persona)
    except OAuth2Error as error:
        return idp.refuse(oauth_request, error)
    # A None grant_user is Authlib's "denied": it redirects with error=access_denied.
    response: OAuthResponse = idp.server.create_authorization_response(
        oauth_request, grant_user=persona, grant=grant
    )
    return response.to_litestar()


@post(TOKEN_PATH, status_code=200)
async def token(request: Request[Any, Any, Any], idp: NamedDependency[DemoIdP]) -> Response[bytes]:
    oauth_request = OAuthRequest(
        method="POST",
        uri=idp.endpoints.token,
        headers=request.headers,
        params=_text_items(await request.form()),
    )
    response: OAuthResponse = idp.server.create_token_response(oauth_request)
    return response.to_litestar()


@route(USERINFO_PATH, http_method=[HttpMethod.GET, HttpMethod.POST], status_code=200)
async def userinfo(
    request: Request[Any, Any, Any], idp: NamedDependency[DemoIdP]
) -> Response[bytes]:
    oauth_request = OAuthRequest(
        method=request.method, uri=idp.endpoints.userinfo, headers=request.headers
    )
    try:
        grant: AccessGrant = idp.protector.validate_request(["openid"], oauth_request)
    except OAuth2Error as error:
        refusal: OAuthResponse = idp.server.handle_error_response(oauth_request, error)
        return refusal.to_litestar()
    claims = standard_claims(grant.persona, grant.scope)
    proofed = verified_claims(grant.persona, grant.claims.userinfo, auth_time=grant.auth_time)
    if proofed is not None:
        claims["verified_claims"] = proofed
    return _json(claims, _NO_STORE)


ROUTES = [about, discovery, jwks, authorize, decide, token, userinfo]
