"""DPoP nonces at the token endpoint (RFC 9449 §8) and per-client rate limits."""

from __future__ import annotations

from pathlib import Path

import httpx

from idsvc.config.oauth import ClientSettings, OAuthSettings
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.device_client import DeviceProgram

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"


async def test_the_server_nonce_is_demanded_then_accepted(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    with demo_service(
        database_url, tmp_path, clock, oauth=OAuthSettings(require_dpop_nonce=True)
    ) as (url, _):
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            program = DeviceProgram(http, clock)
            started = await program.start()
            form = {
                "client_id": "idsvc-cli",
                "grant_type": DEVICE,
                "device_code": started["device_code"],
            }
            first = await http.post(
                "/oauth2/token", data=form, headers={"DPoP": program.proof("/oauth2/token")}
            )
            assert first.status_code == 400
            assert first.json()["error"] == "use_dpop_nonce"
            nonce = first.headers["dpop-nonce"]
            retry = await http.post(
                "/oauth2/token",
                data=form,
                headers={"DPoP": program.proof("/oauth2/token", nonce=nonce)},
            )
            assert retry.json()["error"] == "authorization_pending"
            # Nonces are time-windowed: after two windows the old one is refused.
            clock.advance(601)
            stale = await http.post(
                "/oauth2/token",
                data=form,
                headers={"DPoP": program.proof("/oauth2/token", nonce=nonce)},
            )
            assert stale.json()["error"] == "use_dpop_nonce"


async def test_each_client_has_its_own_request_budget(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    tight = ClientSettings(id="tight-cli", rate_limit=2)
    with demo_service(database_url, tmp_path, clock, clients=(tight,)) as (url, _):
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            codes = [
                (
                    await http.post("/oauth2/device_authorization", data={"client_id": "tight-cli"})
                ).status_code
                for _ in range(3)
            ]
            assert codes == [200, 200, 429]
            limited = await http.post(
                "/oauth2/device_authorization", data={"client_id": "tight-cli"}
            )
            assert int(limited.headers["retry-after"]) > 0
            # Another client is unaffected.
            other = await http.post("/oauth2/device_authorization", data={"client_id": "idsvc-cli"})
            assert other.status_code == 200
