"""Nothing the service publishes depends on a notification arriving.

Found: after a PostgreSQL restart the LISTEN connection was gone and nothing listened
again, so revocations never reached /status-lists (the kept list was only re-signed, for
ever) until the service restarted. These tests restart a PostgreSQL of their own under a
running service.
"""

from __future__ import annotations

import asyncio
import json
import time
from base64 import urlsafe_b64decode
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from idsvc import db
from idsvc.attestations.store import revoke_attestation
from idsvc.policy.model import PolicySettings
from idsvc.settings import StatusListSettings
from idsvc.verify.status import decode_status_list, status_at
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


def claims(jwt: str) -> dict[str, object]:
    segment = jwt.split(".")[1]
    return json.loads(urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))  # type: ignore[no-any-return]


async def published_status(client: httpx.AsyncClient, uri: str, index: int) -> int | None:
    response = await client.get(uri)
    if response.status_code != 200:
        return None
    listed = claims(response.text)["status_list"]
    assert isinstance(listed, dict)
    return status_at(decode_status_list(2, listed["lst"]), 2, index)


async def wait_for_status(
    client: httpx.AsyncClient, uri: str, index: int, wanted: int, *, within: float
) -> float:
    started = time.monotonic()
    while (await published_status(client, uri, index)) != wanted:
        assert time.monotonic() - started < within, f"status {wanted} not published in {within}s"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def revoke_us_person_attestation(url: str, clock: WallClock) -> None:
    pool = await db.create_pool(url, min_size=1, max_size=1)
    try:
        attestation = await pool.fetchval(
            "SELECT id FROM attestations WHERE kind = 'us_person_basis' AND revoked_at IS NULL"
        )
        async with db.transaction(pool) as conn:
            await revoke_attestation(
                conn, attestation, actor="operator", reason="stolen document", now=clock()
            )
    finally:
        await pool.close()


async def token_slot(client: httpx.AsyncClient) -> tuple[str, int]:
    reference = claims(await browser_token(client, MODEL))["status"]
    assert isinstance(reference, dict)
    return reference["status_list"]["uri"], reference["status_list"]["idx"]


async def test_a_revocation_after_a_postgresql_restart_is_published_at_once(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    """The listener listens again after the restart: published in seconds, long before
    the kept list's ttl/2 check (30 s here) would catch it."""
    clock = WallClock()
    lists = StatusListSettings(ttl=60)
    with demo_service(cluster.url, tmp_path, clock, policies=(POLICY,), status_lists=lists) as (
        url,
        _,
    ):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            await sign_in(client, "us-citizen")
            uri, index = await token_slot(client)
            assert await published_status(client, uri, index) == 0
            cluster.restart()
            cluster.wait_ready()
            await revoke_us_person_attestation(cluster.url, clock)
            took = await wait_for_status(client, uri, index, 1, within=10)
    assert took < 10


async def test_a_change_whose_notification_never_came_is_published_within_half_the_ttl(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    """The version in the database is the truth: a slot changed with no NOTIFY at all is
    published once the kept list is due for re-signing (ttl/2)."""
    clock = WallClock()
    lists = StatusListSettings(ttl=10)
    with demo_service(cluster.url, tmp_path, clock, policies=(POLICY,), status_lists=lists) as (
        url,
        _,
    ):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            await sign_in(client, "us-citizen")
            uri, index = await token_slot(client)
            assert await published_status(client, uri, index) == 0
            conn = await asyncpg.connect(cluster.url)
            try:
                list_id = int(uri.rsplit("/", 1)[1])
                async with conn.transaction():
                    await conn.execute(
                        "UPDATE token_statuses SET status = 1 WHERE list_id = $1 AND idx = $2",
                        list_id,
                        index,
                    )
                    await conn.execute(
                        "UPDATE status_lists SET version = version + 1 WHERE id = $1", list_id
                    )
            finally:
                await conn.close()
            took = await wait_for_status(client, uri, index, 1, within=5 + 2)
    assert took <= 7
