"""Tokens for an audience whose policy requires an organisation: the `org` claim, and
denial as soon as the membership or the organisation stops qualifying."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import jwt as pyjwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from idsvc.orgs.members.service import set_member_status
from idsvc.policy.model import OrgRequirement, PolicySettings
from tests.support.clock import FakeClock
from tests.support.factories import add_member, attest, create_org
from tests.support.settings import make_settings
from tests.support.signin import Caller, session_caller

AUDIENCE = "https://api.example.com/ci-model"
POLICY = PolicySettings(
    id="ci-model",
    version=1,
    audience=AUDIENCE,
    entitlements=("model:ci:invoke",),
    organisation=OrgRequirement(programs=("critical-infrastructure",)),
    disclose=("org",),
)


@pytest.fixture
async def client(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = make_settings(database_url, tmp_path, policies=(POLICY,), cookie_secure=False)
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        yield client


async def verified_citizen(pool: db.Pool, clock: FakeClock) -> Caller:
    caller = await session_caller(pool, clock())
    async with db.transaction(pool) as conn:
        await attest(conn, clock(), caller.user_id)
    return caller


async def request(
    client: AsyncTestClient[Litestar], caller: Caller
) -> tuple[int, dict[str, object]]:
    client.cookies.update(caller.cookies)
    response = await client.post(
        "/v1/eligibility-tokens", json={"audience": AUDIENCE}, headers=caller.headers
    )
    return response.status_code, response.json()


async def test_member_of_an_approved_org_in_the_program_gets_the_org_claim(
    client: AsyncTestClient[Litestar], pool: db.Pool, clock: FakeClock
) -> None:
    caller = await verified_citizen(pool, clock)
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock(), programs=("critical-infrastructure",))
        await add_member(conn, clock(), org, caller.user_id)
    status, body = await request(client, caller)
    assert status == 201, body
    claims = pyjwt.decode(str(body["access_token"]), options={"verify_signature": False})
    assert claims["org"] == {"id": str(org), "programs": ["critical-infrastructure"]}
    audited = await pool.fetchval(
        "SELECT data->>'org' FROM audit_events WHERE action = 'token.issued'"
    )
    assert audited == str(org)


async def test_suspension_of_the_member_or_the_org_denies_the_next_request(
    client: AsyncTestClient[Litestar], pool: db.Pool, clock: FakeClock
) -> None:
    caller = await verified_citizen(pool, clock)
    admin_id = (await session_caller(pool, clock())).user_id
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock(), programs=("critical-infrastructure",))
        await add_member(conn, clock(), org, admin_id, role="admin")
        membership = await add_member(conn, clock(), org, caller.user_id)
    assert (await request(client, caller))[0] == 201
    async with db.transaction(pool) as conn:
        await set_member_status(
            conn,
            org_id=org,
            membership_id=membership.id,
            status="suspended",
            actor="t",
            now=clock(),
        )
    status, body = await request(client, caller)
    assert status == 403
    assert body["reasons"] == ["membership_inactive"]
    async with db.transaction(pool) as conn:
        await set_member_status(
            conn, org_id=org, membership_id=membership.id, status="active", actor="t", now=clock()
        )
        await conn.execute("UPDATE organisations SET status = 'suspended' WHERE id = $1", org)
    status, body = await request(client, caller)
    assert status == 403
    assert body["reasons"] == ["org_not_approved"]


async def test_no_membership_is_org_required(
    client: AsyncTestClient[Litestar], pool: db.Pool, clock: FakeClock
) -> None:
    caller = await verified_citizen(pool, clock)
    someone_else = (await session_caller(pool, clock())).user_id
    async with db.transaction(pool) as conn:
        other = await create_org(conn, clock(), programs=("critical-infrastructure",))
        await add_member(conn, clock(), other, someone_else)
    status, body = await request(client, caller)
    assert status == 403
    assert body["reasons"] == ["org_required"]
