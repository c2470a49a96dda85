"""PostgreSQL failover under a running service: a primary and a streaming standby on
loopback (pg_basebackup -R), the service given both hosts with
target_session_attrs=read-write; the primary dies, the standby is promoted, and tokens
are issued again within seconds, with no restart of the service and the audit chain whole.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import httpx
import pytest

from idsvc.policy.model import PolicySettings
from tests.support.cli import run_idsvc
from tests.support.clock import WallClock
from tests.support.cluster import LocalCluster, local_cluster
from tests.support.demo import demo_service
from tests.support.signin import sign_in

MODEL = "https://api.example.com/mythos-5"
POLICY = PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("model:invoke",))
pytestmark = pytest.mark.slow


@pytest.fixture
def primary() -> Iterator[LocalCluster]:
    with local_cluster() as started:
        yield started


@pytest.fixture
def standby(primary: LocalCluster) -> Iterator[LocalCluster]:
    replica = primary.standby()
    try:
        yield replica
    finally:
        with suppress(subprocess.CalledProcessError):  # already stopped
            replica.stop("immediate")


async def test_tokens_are_issued_again_within_seconds_of_a_failover(
    primary: LocalCluster, standby: LocalCluster, tmp_path: Path
) -> None:
    both = (
        f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/postgres"
        "?target_session_attrs=read-write"
    )
    clock = WallClock()
    with demo_service(both, tmp_path, clock, policies=(POLICY,)) as (url, _):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            await sign_in(client, "us-citizen")
            page = await client.get("/me")
            csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]

            async def issue() -> int:
                response = await client.post(
                    "/v1/eligibility-tokens",
                    json={"audience": MODEL},
                    headers={"x-csrf-token": csrf},
                )
                assert response.status_code in (201, 503), response.text
                return response.status_code

            assert await issue() == 201
            primary.stop("immediate")  # the primary dies
            standby.promote()
            started = time.monotonic()
            while await issue() != 201:
                assert time.monotonic() - started < 10, "no token within 10 s of the failover"
                await asyncio.sleep(0.1)
            recovered = time.monotonic() - started
            for _ in range(5):
                assert await issue() == 201
    code, out, err = await run_idsvc(
        "audit", "verify", database_url=f"postgresql://postgres@127.0.0.1:{standby.port}/postgres"
    )
    assert code == 0, err + out
    print(f"failover: tokens again {recovered:.2f} s after the promotion")
