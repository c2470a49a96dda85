"""A relying party built on Authlib's client, driving the demo IdP over real HTTP."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.devidp.pages import Page, read_page

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from idsvc.devidp import DemoClient


@dataclass
class Authorization:
    url: str
    state: str
    nonce: str
    verifier: str


@dataclass
class SignIn:
    authorization: Authorization
    callback: str
    token: dict[str, Any]
    id_token: dict[str, Any]
    id_token_header: dict[str, Any]
    userinfo: dict[str, Any]


def query(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


class RelyingParty:
    def __init__(
        self,
        *,
        metadata: dict[str, Any],
        client: DemoClient,
        browser: httpx.AsyncClient,
        clock: Callable[[], float],
    ) -> None:
        self.metadata = metadata
        self.client = client
        self.browser = browser
        self.clock = clock

    @classmethod
    async def discover(
        cls,
        issuer: str,
        client: DemoClient,
        *,
        browser: httpx.AsyncClient,
        clock: Callable[[], float],
    ) -> RelyingParty:
        response = await browser.get(issuer + "/.well-known/openid-configuration")
        response.raise_for_status()
        metadata = response.json()
        assert metadata["issuer"] == issuer
        return cls(metadata=metadata, client=client, browser=browser, clock=clock)

    def oauth(self, *, redirect_uri: str | None = None, secret: str | None = None) -> Any:
        return AsyncOAuth2Client(
            client_id=self.client.client_id,
            client_secret=secret or self.client.client_secret,
            token_endpoint_auth_method=self.client.token_endpoint_auth_method,
            redirect_uri=redirect_uri or self.client.redirect_uris[0],
            scope="openid email profile",
            code_challenge_method="S256",
        )

    def authorization(self, **params: str) -> Authorization:
        """An authorization URL with PKCE S256, state and nonce; params add or override."""
        verifier = secrets.token_urlsafe(48)
        nonce = params.pop("nonce", secrets.token_urlsafe(16))
        url, state = self.oauth().create_authorization_url(
            self.metadata["authorization_endpoint"],
            code_verifier=verifier,
            nonce=nonce,
            **params,
        )
        return Authorization(url=url, state=state, nonce=nonce, verifier=verifier)

    async def chooser(self, authorization: Authorization) -> Page:
        response = await self.browser.get(authorization.url)
        assert response.status_code == 200, response.text
        return read_page(response.text)

    async def submit(self, page: Page, **fields: str) -> httpx.Response:
        return await self.browser.post(page.form_action, data={**page.hidden, **fields})

    async def authorize(self, persona: str, **params: str) -> tuple[Authorization, str]:
        """Runs the browser part; returns the redirect Location the IdP answered."""
        authorization = self.authorization(**params)
        page = await self.chooser(authorization)
        response = await self.submit(page, persona=persona)
        assert response.status_code == 303, response.text
        return authorization, response.headers["location"]

    async def exchange(
        self, authorization: Authorization, callback: str, **overrides: str
    ) -> dict[str, Any]:
        redirect_uri = overrides.pop("redirect_uri", None)
        verifier = overrides.pop("code_verifier", authorization.verifier)
        async with self.oauth(redirect_uri=redirect_uri, **overrides) as oauth:
            token: dict[str, Any] = await oauth.fetch_token(
                self.metadata["token_endpoint"],
                authorization_response=callback,
                state=authorization.state,
                code_verifier=verifier,
            )
            return token

    async def userinfo(self, access_token: str) -> httpx.Response:
        return await self.browser.get(
            self.metadata["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}"},
        )

    async def validate_id_token(
        self, id_token: str, nonce: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        jwks = (await self.browser.get(self.metadata["jwks_uri"])).json()
        # The algorithm comes from the published key, never from the token's header.
        algorithms = [key["alg"] for key in jwks["keys"]]
        decoded = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=algorithms)
        jwt.JWTClaimsRegistry(
            now=lambda: int(self.clock()),
            iss={"essential": True, "value": self.metadata["issuer"]},
            aud={"essential": True, "value": self.client.client_id},
            azp={"essential": True, "value": self.client.client_id},
            nonce={"essential": True, "value": nonce},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            auth_time={"essential": True},
        ).validate(decoded.claims)
        return decoded.header, decoded.claims

    async def sign_in(self, persona: str, **params: str) -> SignIn:
        authorization, callback = await self.authorize(persona, **params)
        returned = query(callback)
        assert callback.startswith(self.client.redirect_uris[0] + "?")
        assert returned["state"] == authorization.state
        # RFC 9207: the response names the issuer, and the RP checks it.
        assert returned["iss"] == self.metadata["issuer"]
        token = await self.exchange(authorization, callback)
        header, claims = await self.validate_id_token(token["id_token"], authorization.nonce)
        userinfo = await self.userinfo(token["access_token"])
        assert userinfo.status_code == 200, userinfo.text
        return SignIn(
            authorization=authorization,
            callback=callback,
            token=token,
            id_token=claims,
            id_token_header=header,
            userinfo=userinfo.json(),
        )
