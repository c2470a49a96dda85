"""Driving a browser-like sign-in over real HTTP: idsvc → demo provider → idsvc."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import msgspec

from idsvc.app import Seed, create_app
from idsvc.devidp.wiring import demo_provider
from idsvc.oauth.config import ClientSettings, OAuthSettings
from idsvc.policy.model import PolicySettings
from idsvc.settings import Settings, StatusListSettings
from tests.conftest import FakeClock, make_settings
from tests.support.serving import _free_port, serve_in_thread

__all__ = [
    "browser_token",
    "choose_persona",
    "confirm_link",
    "demo_service",
    "sign_in",
    "token_subject",
]

_FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')
_TRANSACTION = re.compile(r'name="transaction" value="([^"]+)"')


@contextmanager
def demo_service(
    database_url: str,
    tmp_path: Path,
    clock: FakeClock,
    *,
    operators: tuple[str, ...] = (),
    policies: tuple[PolicySettings, ...] = (),
    clients: tuple[ClientSettings, ...] = (),
    oauth: OAuthSettings | None = None,
    status_lists: StatusListSettings | None = None,
    seed: Seed | None = None,
    **service: object,
) -> Iterator[tuple[str, Settings]]:
    """idsvc with the demo provider mounted, served on loopback; yields (base URL, settings)."""
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    service = {"cookie_secure": False, **service}  # plain http on loopback unless a test asks
    settings = make_settings(
        database_url,
        tmp_path,
        operators=operators,
        policies=policies,
        clients=clients,
        oauth=oauth,
        status_lists=status_lists,
        issuer=issuer,
        **service,
    )
    provider, route = demo_provider(issuer, clock=lambda: clock().timestamp())
    app = create_app(
        settings, clock=clock, extra_providers=(provider,), extra_routes=(route,), seed=seed
    )
    with serve_in_thread(app, port=port) as base_url:
        yield base_url, settings


async def choose_persona(client: httpx.AsyncClient, authorize_url: str, persona: str) -> str:
    """At the demo provider's page, pick a persona; returns the callback URL it redirects to."""
    page = await client.get(authorize_url)
    assert page.status_code == 200, page.text
    action = html.unescape(_FORM_ACTION.search(page.text).group(1))  # type: ignore[union-attr]
    transaction = html.unescape(_TRANSACTION.search(page.text).group(1))  # type: ignore[union-attr]
    decided = await client.post(
        httpx.URL(authorize_url).join(action),
        data={"transaction": transaction, "persona": persona},
    )
    assert decided.status_code == 303, decided.text
    return decided.headers["location"]


async def sign_in(client: httpx.AsyncClient, persona: str) -> httpx.Response:
    """The whole round trip; returns idsvc's answer to the callback."""
    start = await client.get("/login/demo")
    assert start.status_code == 303, start.text
    callback = await choose_persona(client, start.headers["location"], persona)
    return await client.get(callback)


async def confirm_link(client: httpx.AsyncClient, callback: httpx.Response) -> httpx.Response:
    """Answer the confirmation page that a signed-in browser's sign-in leads to, as the
    person does when the identity is theirs; returns the answer to the POST."""
    assert callback.status_code == 303, callback.text
    assert callback.headers["location"].startswith("/link"), callback.headers["location"]
    page = await client.get(callback.headers["location"], headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    return await client.post("/link", data={"csrf_token": csrf, "decision": "link"})


def status(response: httpx.Response) -> dict[str, object]:
    return msgspec.json.decode(response.content)  # type: ignore[no-any-return]


async def browser_token(
    client: httpx.AsyncClient, audience: str, *, dpop: str | None = None
) -> str:
    """An eligibility token for the signed-in browser (design 3.3.1), as the page does it."""
    page = await client.get("/me")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    headers = {"x-csrf-token": csrf} | ({"DPoP": dpop} if dpop else {})
    response = await client.post(
        "/v1/eligibility-tokens", json={"audience": audience}, headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


def token_subject(token: str) -> str:
    """The ``sub`` a token carries (read without verifying: for comparing what a gateway
    forwarded with what was issued)."""
    payload = token.split(".")[1]
    claims = msgspec.json.decode(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])
