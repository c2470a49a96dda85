"""Two refreshes with one refresh token at the same moment (a stolen token raced against
its owner): the second waits for the first and is then caught as reuse, which revokes the
grant. Found: only the grant's row was locked, so the waiter was re-checked against the
token row as it stood before the first refresh (not yet rotated) and went on to issue,
failing at the rotation with a 500 and rolling back: no revocation, no audit event."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.config.oauth import OAuthSettings
from idsvc.crypto.opaque import stored_hash
from idsvc.oauth.grants import GrantRefused, create_grant, find_grant
from idsvc.policy.model import PolicySettings
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.device_client import DeviceProgram, approve
from tests.support.factories import create_user
from tests.support.signin import sign_in

MODEL = "https://api.example.com/mythos-5"
POLICY = PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("model:invoke",))


@pytest.mark.parametrize("for_issuance", [False, True])
async def test_the_second_of_two_concurrent_refreshes_is_reuse(
    pool: db.Pool, clock: FakeClock, for_issuance: bool
) -> None:
    now = clock()
    async with db.transaction(pool) as conn:
        user = await create_user(conn, now)
        grant, token = await create_grant(
            conn, user_id=user, client_id="cli", dpop_jkt=None, settings=OAuthSettings(), now=now
        )
    async with pool.acquire() as first, first.transaction():
        found = await find_grant(first, token, client_id="cli", now=now, for_issuance=for_issuance)
        assert found.id == grant.id

        async def second_refresh() -> str:
            async with pool.acquire() as second, second.transaction():
                try:
                    await find_grant(
                        second, token, client_id="cli", now=now, for_issuance=for_issuance
                    )
                except GrantRefused as refused:
                    return refused.reason
                return "issued"

        racer = asyncio.create_task(second_refresh())
        await asyncio.sleep(0.3)  # the second refresh is now waiting on the first's locks
        assert not racer.done()
        # The first refresh rotates the token (as issuance does) and commits.
        await first.execute(
            "UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1",
            stored_hash(token),
            now + timedelta(seconds=1),
        )
    assert await asyncio.wait_for(racer, 10) == "refresh_token_reused"
    revoked = await pool.fetchval("SELECT revoked_reason FROM oauth_grants WHERE id = $1", grant.id)
    assert revoked == "refresh_token_reused"


async def test_a_refresh_refused_inside_its_transaction_still_spends_its_proof(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The grant remembers its DPoP proof in its transaction's first statement; when that
    transaction rolls back (here: the person's token budget is spent), the proof must still
    be remembered across instances, or a captured request could be replayed elsewhere."""
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,), token_rate_limit=2) as (
        url,
        _,
    ):
        async with (
            httpx.AsyncClient(base_url=url, timeout=10) as browser,
            httpx.AsyncClient(base_url=url, timeout=10) as device,
        ):
            program = DeviceProgram(device, clock)
            await sign_in(browser, "us-citizen")
            started = await program.start()
            assert (await approve(browser, started["user_code"])).status_code == 200
            refresh = (await program.poll(started["device_code"])).json()["refresh_token"]
            for _ in range(5):  # until the budget is spent (approvals count too)
                before = await _remembered(database_url)
                answer = await program.refresh(refresh, MODEL)
                if answer.status_code == 429:
                    break
                assert answer.status_code == 200, answer.text
                refresh = answer.json()["refresh_token"]
            assert answer.status_code == 429, answer.text
            assert await _remembered(database_url) == before + 1


async def _remembered(database_url: str) -> int:
    conn = await db.connect(database_url)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM replay_guard WHERE scope = 'dpop'")
    finally:
        await conn.close()
    return count


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"refresh_token": "not-a-refresh-token", "resource": MODEL}, "invalid_grant"),
        ({"refresh_token": "idsvc_rt_whatever"}, "invalid_target"),
    ],
    ids=["malformed-token", "no-resource"],
)
async def test_a_refresh_refused_before_its_statement_still_spends_its_proof(
    database_url: str, tmp_path: Path, clock: FakeClock, form: dict[str, str], error: str
) -> None:
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,)) as (url, _):
        async with httpx.AsyncClient(base_url=url, timeout=10) as device:
            before = await _remembered(database_url)
            refused = await DeviceProgram(device, clock).token(
                {"grant_type": "refresh_token", **form}
            )
            assert refused.json()["error"] == error, refused.text
            assert await _remembered(database_url) == before + 1
