"""Everything one running demo provider holds: key, store, Authlib server, endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from authlib.oauth2 import OAuth2Error, ResourceProtector

from idsvc.devidp.grants import (
    AccessTokenValidator,
    DemoCodeGrant,
    DemoOpenIDCode,
    S256CodeChallenge,
)
from idsvc.devidp.keys import load_signing_key
from idsvc.devidp.metadata import Endpoints, discovery_document
from idsvc.devidp.pages import error_page
from idsvc.devidp.server import DemoAuthorizationServer, OAuthRequest
from idsvc.devidp.store import DemoStore

if TYPE_CHECKING:
    from collections.abc import Iterable

    from litestar import Response
    from litestar.response import Template

    from idsvc.devidp.settings import DemoIdPSettings

__all__ = ["DemoIdP"]


class DemoIdP:
    def __init__(self, settings: DemoIdPSettings) -> None:
        self.endpoints = Endpoints.for_issuer(settings.issuer)
        self.key = load_signing_key(settings.signing_key)
        self.store = DemoStore(settings)
        self.server = DemoAuthorizationServer(
            issuer=settings.issuer,
            clients=settings.clients,
            store=self.store,
            access_token_lifetime=settings.access_token_lifetime,
        )
        self.server.register_grant(
            DemoCodeGrant,
            [
                S256CodeChallenge(required=True),
                DemoOpenIDCode(
                    issuer=settings.issuer,
                    key=self.key,
                    clock=settings.clock,
                    lifetime=settings.id_token_lifetime,
                    store=self.store,
                ),
            ],
        )
        self.protector = ResourceProtector()
        self.protector.register_token_validator(AccessTokenValidator(self.store))
        self.discovery = discovery_document(self.endpoints, signing_alg=self.key.alg)

    def authorization_request(self, params: Iterable[tuple[str, str]]) -> OAuthRequest:
        # The URI is the published endpoint, not the one the request came in on, so
        # Authlib's transport check sees what the client sees.
        return OAuthRequest(
            method="GET", uri=self.endpoints.authorization, headers={}, params=params
        )

    def refuse(self, request: OAuthRequest, error: OAuth2Error) -> Response[bytes] | Template:
        """Send an authorization error to the client if its redirect URI is verified;
        otherwise show it here, since the URI may be an attacker's (RFC 6749 §4.1.2.1)."""
        redirect = self.server.error_redirect(request, error)
        if redirect is not None:
            return redirect.to_litestar()
        return error_page(
            status=400,
            title="This sign-in request was refused",
            message="The application sent a request this provider cannot accept, and it "
            "cannot be sent back safely.",
            code=error.error,
            description=error.description or "",
        )
