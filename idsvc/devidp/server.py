"""Authlib's ``AuthorizationServer`` adapted to Litestar.

Authlib's server is synchronous and Litestar reads request bodies asynchronously, so a
handler first reads the query or form and then hands Authlib an ``OAuthRequest`` built
from those values. Authlib answers ``(status, body, headers)`` triples, which become an
``OAuthResponse``: a small mutable object because Authlib's RFC 9207 extension rewrites
``response.location`` in place before the handler turns it into a Litestar response.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import msgspec
from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc9207 import IssuerParameter
from litestar import Response

from idsvc.devidp.store import AccessGrant, DemoStore

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from idsvc.devidp.settings import DemoClient

__all__ = ["DemoAuthorizationServer", "OAuthRequest", "OAuthResponse"]


class _Payload(OAuth2Payload):  # type: ignore[misc]  # Authlib ships no type information
    def __init__(self, params: Iterable[tuple[str, str]]) -> None:
        datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in params:
            datalist[name].append(value)
        # Authlib reads single values from ``data`` and counts repeats in ``datalist``
        # (a repeated parameter is an error, RFC 6749 §3.1).
        self._datalist = datalist
        self._data = {name: values[0] for name, values in datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class OAuthRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(
        self,
        *,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        params: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = _Payload(params)

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data


class OAuthResponse:
    def __init__(self, status: int, body: object, headers: Iterable[tuple[str, str]]) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers)

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    @location.setter
    def location(self, value: str) -> None:
        self.headers["Location"] = value

    def to_litestar(self) -> Response[bytes]:
        headers = dict(self.headers)
        media_type = headers.pop("Content-Type", "text/plain; charset=utf-8")
        # RFC 9700 §4.11: a redirect answering the persona form's POST must be 303, or a
        # browser could repeat the POST at the client's redirect URI; for the GET
        # error redirects 303 means the same as Authlib's 302.
        status = 303 if self.status == 302 else self.status
        body = self.body.encode() if isinstance(self.body, str) else msgspec.json.encode(self.body)
        return Response(body, status_code=status, headers=headers, media_type=media_type)


class _IssuerParameter(IssuerParameter):  # type: ignore[misc]
    """RFC 9207: every authorization response, error or not, names the issuer."""

    def __init__(self, issuer: str) -> None:
        self._issuer = issuer

    def get_issuer(self) -> str:
        return self._issuer


def _random_access_token(**_: object) -> str:
    # Opaque on purpose: the client must call userinfo rather than read the token.
    return secrets.token_urlsafe(32)


class DemoAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(
        self,
        *,
        issuer: str,
        clients: Iterable[DemoClient],
        store: DemoStore,
        access_token_lifetime: int,
    ) -> None:
        # No scopes_supported: unknown scopes are dropped by the client's
        # get_allowed_scope (OIDC Core §3.1.2.1) instead of failing the request.
        super().__init__(scopes_supported=None)
        self.store = store
        self._clients = {client.client_id: client for client in clients}
        self.register_token_generator(
            "default",
            BearerTokenGenerator(_random_access_token, expires_generator=access_token_lifetime),
        )
        self._issuer_parameter = _IssuerParameter(issuer)
        self.register_extension(self._issuer_parameter)

    def query_client(self, client_id: str) -> DemoClient | None:
        return self._clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuthRequest) -> None:
        code = request.authorization_code
        grant = AccessGrant(
            persona=code.persona,
            scope=code.scope,
            auth_time=code.auth_time,
            claims=code.claims,
        )
        self.store.save_access_token(token["access_token"], grant, code=code.code)

    def create_oauth2_request(self, request: OAuthRequest) -> OAuthRequest:
        return request

    def handle_response(
        self, status_code: int, payload: object, headers: Iterable[tuple[str, str]]
    ) -> OAuthResponse:
        return OAuthResponse(status_code, payload, headers)

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        """Authlib announces events here for frameworks with signals; nobody listens."""

    def error_redirect(self, request: OAuthRequest, error: OAuth2Error) -> OAuthResponse | None:
        """The error as a redirect to the client, or None when it must not redirect.

        Authlib attaches ``redirect_uri`` to an error only once it has checked the client
        and that URI. Checking again here keeps a hook bug or an Authlib change from
        turning the error path into an open redirector.
        """
        client = self.query_client(request.payload.client_id or "")
        if not error.redirect_uri or client is None:
            return None
        if not client.check_redirect_uri(error.redirect_uri):
            return None
        response: OAuthResponse = self.handle_error_response(request, error)
        self._issuer_parameter.add_issuer_parameter(self, response)
        return response
