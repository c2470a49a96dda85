"""idsvc's ES256 tokens validated by Apache mod_auth_openidc itself (no sidecar), with
the iss and aud checks of docs/gateways/apache.conf switched on."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from idsvc.policy.model import PolicySettings
from tests.support.clock import FakeClock, WallClock
from tests.support.demo import browser_token, demo_service, token_subject
from tests.support.forge import Key, token
from tests.support.gateways.apache import apache_in_front
from tests.support.gateways.tls import https_in_front
from tests.support.signin import sign_in

# Slow tier: `make test` runs it, `make test-fast` leaves it out.
# A real Apache with mod_auth_openidc in front of the service.
pytestmark = pytest.mark.slow

MODEL = "https://api.example.com/mythos-5"
OTHER = "https://api.example.com/other-model"
SHORT = "https://api.example.com/mythos-5-short"
POLICIES = (
    PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("model:invoke",)),
    PolicySettings(id="other", version=1, audience=OTHER, entitlements=("model:invoke",)),
    PolicySettings(
        id="short", version=1, audience=SHORT, entitlements=("model:invoke",), token_lifetime=1
    ),
)


@pytest.fixture
def clock() -> FakeClock:
    return WallClock()


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, policies=POLICIES) as (url, _):
        yield url


@pytest.fixture
def apache(service: str, tmp_path: Path) -> Iterator[str]:
    with (
        https_in_front(tmp_path, service) as (https, ca_file),
        apache_in_front(
            tmp_path,
            issuer=service,
            jwks_url=f"{https}/.well-known/jwks.json",
            ca_file=ca_file,
            audience=MODEL,
        ) as base,
    ):
        yield base


@pytest.fixture
async def browser(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


async def test_apache_accepts_idsvc_tokens_and_checks_iss_aud_exp_and_signature(
    browser: httpx.AsyncClient, apache: str, service: str
) -> None:
    await sign_in(browser, "us-citizen")
    good = await browser_token(browser, MODEL)
    for_other_audience = await browser_token(browser, OTHER)
    stranger = Key()  # a key idsvc never published
    now = int(time.time())
    forged = token(stranger, iss=service, aud=MODEL, iat=now, nbf=now, exp=now + 300)
    async with httpx.AsyncClient(base_url=apache, timeout=10) as api:
        allowed = await api.get("/v1/infer", headers={"Authorization": f"Bearer {good}"})
        assert allowed.status_code == 200, allowed.text
        # The token's own subject reaches the API (a fixed string like "(null)" would not).
        assert allowed.text.startswith(f"sub={token_subject(good)} org=")
        assert (await api.get("/v1/infer")).status_code == 401
        assert (
            await api.get("/v1/infer", headers={"Authorization": f"Bearer {for_other_audience}"})
        ).status_code in (401, 403)
        assert (
            await api.get("/v1/infer", headers={"Authorization": f"Bearer {forged}"})
        ).status_code == 401
        # A token idsvc signed but whose claims were changed no longer verifies.
        head, payload, signature = good.split(".")
        body = json.loads(
            __import__("base64").urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        )
        body["exp"] = now + 86_400
        tampered = ".".join(
            (
                head,
                __import__("base64")
                .urlsafe_b64encode(json.dumps(body).encode())
                .rstrip(b"=")
                .decode(),
                signature,
            )
        )
        assert (
            await api.get("/v1/infer", headers={"Authorization": f"Bearer {tampered}"})
        ).status_code == 401


async def test_apache_refuses_expired_tokens(
    browser: httpx.AsyncClient, service: str, tmp_path: Path
) -> None:
    await sign_in(browser, "us-citizen")
    with (
        https_in_front(tmp_path, service) as (https, ca_file),
        apache_in_front(
            tmp_path,
            issuer=service,
            jwks_url=f"{https}/.well-known/jwks.json",
            ca_file=ca_file,
            audience=SHORT,
        ) as base,
    ):
        short_lived = await browser_token(browser, SHORT)
        async with httpx.AsyncClient(base_url=base, timeout=10) as api:
            fresh = await api.get("/v1/infer", headers={"Authorization": f"Bearer {short_lived}"})
            assert fresh.status_code == 200
            await asyncio.sleep(2.5)
            stale = await api.get("/v1/infer", headers={"Authorization": f"Bearer {short_lived}"})
            assert stale.status_code == 401
