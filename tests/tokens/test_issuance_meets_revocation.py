"""An issuance and a revocation of the same person at the same moment never leave a token
valid that the revocation should have reached.

Found by tests/faults/test_chaos.py: a token decided on facts read just before an
attestation's revocation committed got its status slot just after the revocation had
updated the statuses, and stayed valid for its whole lifetime."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.app import create_app
from idsvc.attestations.store import revoke_attestation
from idsvc.policy.model import PolicySettings
from idsvc.tokens.status_slots import StatusAllocator
from tests.support.clock import FakeClock
from tests.support.factories import attest
from tests.support.serving import serve_in_thread
from tests.support.settings import make_settings
from tests.support.signin import Caller, session_caller

MODEL = "https://api.example.com/mythos-5"
POLICY = PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("invoke",))


@pytest.fixture
async def client(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The service for real, in its own thread and event loop: a request of it may wait on
    a lock this test's transaction holds."""
    settings = make_settings(database_url, tmp_path, policies=(POLICY,), cookie_secure=False)
    with serve_in_thread(create_app(settings, clock=clock)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=20) as http:
            yield http


async def citizen(pool: db.Pool, clock: FakeClock) -> tuple[Caller, uuid.UUID]:
    caller = await session_caller(pool, clock(), email="ann@example.com")
    async with db.transaction(pool) as conn:
        await attest(conn, clock(), caller.user_id)
    basis = await pool.fetchval("SELECT id FROM attestations WHERE kind = 'us_person_basis'")
    return caller, basis


async def wait_until_blocked(pool: db.Pool, other_than: int) -> None:
    """Until a backend (not ``other_than``) waits on a row lock; fails after 5 s."""
    deadline = time.monotonic() + 5
    while not await pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND pid <> $1)",
        other_than,
    ):
        assert time.monotonic() < deadline, "nothing waited for the other transaction"
        await asyncio.sleep(0.02)


async def test_an_issuance_waits_for_a_revocation_under_way_then_is_denied(
    client: httpx.AsyncClient, pool: db.Pool, clock: FakeClock
) -> None:
    caller, basis = await citizen(pool, clock)
    client.cookies.update(caller.cookies)
    async with pool.acquire() as conn:
        revocation = conn.transaction()
        await revocation.start()
        await revoke_attestation(conn, basis, actor="operator", reason="stolen", now=clock())
        issuing = asyncio.create_task(
            client.post("/v1/eligibility-tokens", json={"audience": MODEL}, headers=caller.headers)
        )
        await wait_until_blocked(pool, conn.get_server_pid())
        await revocation.commit()
    response = await issuing
    assert response.status_code == 403, response.text
    assert await pool.fetchval("SELECT count(*) FROM token_statuses WHERE status = 0") == 0


async def test_a_revocation_waits_for_an_issuance_under_way_then_reaches_its_token(
    pool: db.Pool, clock: FakeClock
) -> None:
    caller, basis = await citizen(pool, clock)
    async with pool.acquire() as conn:
        issuance = conn.transaction()
        await issuance.start()
        # What issue_token does first (tokens.service), then the token's status slot.
        await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR SHARE", caller.user_id)
        slot = await StatusAllocator(1024).allocate(
            conn, user_id=caller.user_id, org_id=None, grant_id=None, kid="k", jti="j1",
            expires_at=clock() + timedelta(minutes=5), now=clock(),
        )  # fmt: skip

        async def revoke() -> None:
            async with db.transaction(pool) as other:
                await revoke_attestation(other, basis, actor="op", reason="stolen", now=clock())

        revoking = asyncio.create_task(revoke())
        await wait_until_blocked(pool, conn.get_server_pid())
        await issuance.commit()
    await revoking
    status = await pool.fetchval(
        "SELECT status FROM token_statuses WHERE list_id = $1 AND idx = $2", slot.list_id, slot.idx
    )
    assert status == 1  # INVALID: the revocation found the token issued alongside it
