"""A token from the running idsvc, checked at a real NGINX through the sidecar."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from idsvc.policy.model import PolicySettings
from tests.support.clock import FakeClock, WallClock
from tests.support.demo import browser_token, demo_service, token_subject
from tests.support.forge import Key, dpop_proof
from tests.support.gateways.nginx import nginx_in_front, sidecar
from tests.support.signin import sign_in

# Slow tier: `make test` runs it, `make test-fast` leaves it out.
# A real NGINX in front of the service.
pytestmark = pytest.mark.slow

MODEL = "https://api.example.com/mythos-5"
POLICY = PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("model:invoke",))


@pytest.fixture
def clock() -> FakeClock:
    return WallClock()


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,)) as (url, _):
        yield url


@pytest.fixture
def gateway(service: str, tmp_path: Path) -> Iterator[str]:
    with sidecar(service, MODEL) as address, nginx_in_front(tmp_path, address) as base:
        yield base


@pytest.fixture
async def browser(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


async def test_requests_through_nginx_are_checked_by_the_sidecar(
    browser: httpx.AsyncClient, gateway: str, service: str
) -> None:
    await sign_in(browser, "us-citizen")
    token = await browser_token(browser, MODEL)
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as api:
        allowed = await api.get("/v1/infer", headers={"Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200
        # The token's own subject reaches the API (a fixed string like "(null)" would not).
        assert allowed.text.startswith(f"sub={token_subject(token)} org=")
        # A client cannot vouch for itself: its own X-Eligibility-Sub is replaced.
        spoofed = await api.get(
            "/v1/infer", headers={"Authorization": f"Bearer {token}", "X-Eligibility-Sub": "admin"}
        )
        assert "sub=admin" not in spoofed.text
        missing = await api.get("/v1/infer")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        forged = await api.get("/v1/infer", headers={"Authorization": f"Bearer {token[:-4]}AAAA"})
        assert forged.status_code == 401
        assert 'error="invalid_token"' in forged.headers["www-authenticate"]


async def test_dpop_bound_tokens_need_a_proof_for_the_request_nginx_saw(
    browser: httpx.AsyncClient, gateway: str, service: str
) -> None:
    await sign_in(browser, "us-citizen")
    holder = Key()
    import time

    issuance_proof = dpop_proof(
        holder, "", ath=None, htu=f"{service}/v1/eligibility-tokens", iat=time.time()
    )
    token = await browser_token(browser, MODEL, dpop=issuance_proof)
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as api:
        proof = dpop_proof(holder, token, htm="POST", htu=f"{gateway}/v1/infer", iat=time.time())
        ok = await api.post("/v1/infer", headers={"Authorization": f"DPoP {token}", "DPoP": proof})
        assert ok.status_code == 200, ok.headers.get("www-authenticate")
        replay = await api.post(
            "/v1/infer", headers={"Authorization": f"DPoP {token}", "DPoP": proof}
        )
        assert replay.status_code == 401
        assert "dpop_replayed" in replay.headers["www-authenticate"]
        bearer = await api.post("/v1/infer", headers={"Authorization": f"Bearer {token}"})
        assert bearer.status_code == 401
        assert bearer.headers["www-authenticate"].startswith("DPoP ")
