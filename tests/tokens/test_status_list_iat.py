"""A status list whose content changed carries a later iat, even when rebuilt within the
same second: gateways take a list with the iat they hold as a re-fetch of it (and refuse an
older one), so two different lists with one iat would let a replay of the earlier pass."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.attestations.store import revoke_attestation
from idsvc.policy.model import PolicySettings
from tests.support.clock import FakeClock
from tests.support.demo import browser_token, demo_service
from tests.support.signin import sign_in

MODEL = "https://api.example.com/mythos-5"
POLICY = PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("model:invoke",))


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    # The clock stands still: every rebuild happens "within the same second".
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,)) as (url, _):
        yield url


def claims(jwt: str) -> dict[str, object]:
    segment = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))  # type: ignore[no-any-return]


async def test_a_changed_list_is_issued_later_than_the_one_before(
    service: str, database_url: str, clock: FakeClock
) -> None:
    async with httpx.AsyncClient(base_url=service, timeout=10) as browser:
        await sign_in(browser, "us-citizen")
        token = await browser_token(browser, MODEL)
        uri = claims(token)["status"]["status_list"]["uri"]  # type: ignore[index]
        before = await browser.get(uri)
        pool = await db.create_pool(database_url, min_size=1, max_size=1)
        try:
            attestation = await pool.fetchval(
                "SELECT id FROM attestations WHERE kind = 'us_person_basis'"
            )
            async with db.transaction(pool) as conn:
                await revoke_attestation(
                    conn, attestation, actor="operator", reason="stolen document", now=clock()
                )
        finally:
            await pool.close()
        deadline = time.monotonic() + 10
        while (after := await browser.get(uri)).headers["etag"] == before.headers["etag"]:
            assert time.monotonic() < deadline, "the served list never changed"
            await asyncio.sleep(0.05)
    first, second = claims(before.text), claims(after.text)
    assert first["status_list"] != second["status_list"]
    assert second["iat"] > first["iat"]  # type: ignore[operator]
