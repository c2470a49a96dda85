"""While PostgreSQL is down the service fails closed, clearly: 503 with Retry-After from
every endpoint that needs the database (never 500), readiness 503, keys and status lists
from memory while they are fresh; and it recovers by itself when PostgreSQL is back.

Found: 2,034 token requests answered 500 during a 14 s outage, and /readyz answered 500
while PostgreSQL was shutting down."""

from __future__ import annotations

import asyncio
import json
import time
from base64 import urlsafe_b64decode
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from idsvc.policy.model import PolicySettings
from tests.support.clock import WallClock
from tests.support.cluster import LocalCluster, local_cluster
from tests.support.demo import browser_token, demo_service
from tests.support.signin import sign_in

MODEL = "https://api.example.com/mythos-5"
POLICY = PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("model:invoke",))
pytestmark = pytest.mark.slow


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    with local_cluster() as started:
        yield started


async def request_token(client: httpx.AsyncClient, csrf: str) -> httpx.Response:
    return await client.post(
        "/v1/eligibility-tokens", json={"audience": MODEL}, headers={"x-csrf-token": csrf}
    )


async def test_an_outage_is_503_with_retry_after_and_recovery_needs_no_restart(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    clock = WallClock()
    with demo_service(cluster.url, tmp_path, clock, policies=(POLICY,)) as (url, _):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            await sign_in(client, "us-citizen")
            token = await browser_token(client, MODEL)
            segment = token.split(".")[1]
            status_uri = json.loads(urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))[
                "status"
            ]["status_list"]["uri"]
            assert (await client.get(status_uri)).status_code == 200
            page = await client.get("/me")
            csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]

            cluster.stop()
            answers: dict[str, list[int]] = {}
            for _ in range(5):  # a few rounds: dead pooled connections, then refused ones
                for name, call in (
                    ("issue", request_token(client, csrf)),
                    ("me", client.get("/v1/me")),
                    ("readyz", client.get("/readyz")),
                    ("healthz", client.get("/healthz")),
                    ("jwks", client.get("/.well-known/jwks.json")),
                    ("status_list", client.get(status_uri)),
                ):
                    response = await call
                    answers.setdefault(name, []).append(response.status_code)
                    if response.status_code == 503:
                        assert int(response.headers["retry-after"]) > 0
                        assert response.headers["content-type"].startswith(
                            "application/problem+json"
                        )
            assert set(answers["issue"]) == {503}, answers
            assert set(answers["me"]) == {503}, answers
            assert set(answers["readyz"]) == {503}, answers
            assert set(answers["healthz"]) == {200}, answers
            # Public keys and the kept status list are served from memory while fresh.
            assert set(answers["jwks"]) == {200}, answers
            assert set(answers["status_list"]) == {200}, answers

            cluster.start()
            started = time.monotonic()
            while (await request_token(client, csrf)).status_code != 201:
                assert time.monotonic() - started < 15, "issuance did not recover"
                await asyncio.sleep(0.1)
            assert (await client.get("/readyz")).status_code == 200
