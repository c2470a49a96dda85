"""idsvc with the demo provider mounted, served over real HTTP on loopback, and what a
signed-in browser asks of it (sign-in itself: tests.support.signin)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import msgspec

from idsvc.app import Seed, create_app
from idsvc.config.oauth import ClientSettings, OAuthSettings
from idsvc.devidp.wiring import demo_provider
from idsvc.policy.model import PolicySettings
from idsvc.settings import ComplianceSettings, ScreeningSettings, Settings, StatusListSettings
from tests.support.clock import FakeClock
from tests.support.serving import free_port, serve_in_thread
from tests.support.settings import make_settings

__all__ = ["browser_token", "demo_service", "token_subject"]


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
    screening: ScreeningSettings | None = None,
    compliance: ComplianceSettings | None = None,
    seed: Seed | None = None,
    **service: object,
) -> Iterator[tuple[str, Settings]]:
    """idsvc with the demo provider mounted, served on loopback; yields (base URL, settings)."""
    port = free_port()
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
        screening=screening,
        compliance=compliance,
        issuer=issuer,
        **service,
    )
    provider, route = demo_provider(issuer, clock=clock.timestamp)
    app = create_app(
        settings, clock=clock, extra_providers=(provider,), extra_routes=(route,), seed=seed
    )
    with serve_in_thread(app, port=port) as base_url:
        yield base_url, settings


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
