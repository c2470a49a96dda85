"""Revocation reaching NGINX-protected traffic: idsvc, a real NGINX, the check sidecar and
a protected API. After each change the same token is refused at NGINX within the status
list's ttl plus the sidecar's refresh (both the list's ttl here); a suspended-then-
reinstated membership is accepted again. Times from change to first refusal are printed
(pytest -s) and reported in docs/revocation.md."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.attestations.store import revoke_attestation
from idsvc.orgs.members.service import set_member_status
from idsvc.orgs.vetting.organisations import set_org_status
from idsvc.policy.model import OrgRequirement, PolicySettings
from idsvc.scim.tokens import create_token
from idsvc.settings import StatusListSettings
from tests.support.clock import FakeClock, WallClock
from tests.support.demo import browser_token, demo_service
from tests.support.factories import add_member, create_org, create_user
from tests.support.four_eyes import ONE_OPERATOR
from tests.support.gateways.nginx import nginx_in_front, sidecar
from tests.support.signin import sign_in

# Slow tier: `make test` runs it, `make test-fast` leaves it out.
# A real NGINX, waiting for revocations to reach it (~95 s serial).
pytestmark = pytest.mark.slow

MODEL = "https://api.example.com/ci-model"
TTL = 10
POLICY = PolicySettings(
    id="ci-model",
    version=1,
    audience=MODEL,
    entitlements=("model:invoke",),
    organisation=OrgRequirement(programs=("critical-infrastructure",)),
    disclose=("org",),
)
CITIZEN_SUBJECT = "demo-7f3c1a20-us-citizen"
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def clock() -> FakeClock:
    return WallClock()


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    lists = StatusListSettings(ttl=TTL)
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,), status_lists=lists) as (
        url,
        _,
    ):
        yield url


@pytest.fixture
def gateway(service: str, tmp_path: Path) -> Iterator[str]:
    with sidecar(service, MODEL) as address, nginx_in_front(tmp_path, address) as base:
        yield base


@pytest.fixture
async def browser(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


async def until_status(api: httpx.AsyncClient, token: str, expected: int) -> float:
    """Seconds until NGINX answers ``expected`` for the token; fails past ttl x 2 + 5."""
    started = time.monotonic()
    deadline = started + 2 * TTL + 5
    while time.monotonic() < deadline:
        response = await api.get("/v1/infer", headers={"Authorization": f"Bearer {token}"})
        if response.status_code == expected:
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    raise AssertionError(f"still not {expected} after {deadline - started:.0f} s")


async def test_revocations_reach_nginx_within_the_lists_ttl(
    browser: httpx.AsyncClient, gateway: str, database_url: str, clock: FakeClock
) -> None:
    await sign_in(browser, "us-citizen")
    pool = await db.create_pool(database_url, min_size=1, max_size=2)
    try:
        user = await pool.fetchval(
            "SELECT user_id FROM identities WHERE subject = $1", CITIZEN_SUBJECT
        )
        async with db.transaction(pool) as conn:
            org = await create_org(conn, clock(), programs=("critical-infrastructure",))
            membership = await add_member(conn, clock(), org, user)
        timings: dict[str, float] = {}
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as api:
            # 1. Suspend the member, then reinstate: refused, then accepted again.
            token = await browser_token(browser, MODEL)
            assert (
                await api.get("/v1/infer", headers={"Authorization": f"Bearer {token}"})
            ).status_code == 200
            async with db.transaction(pool) as conn:
                await set_member_status(
                    conn,
                    org_id=org,
                    membership_id=membership.id,
                    status="suspended",
                    actor="admin",
                    now=clock(),
                )
            timings["membership suspended"] = await until_status(api, token, 403)
            refused = await api.get("/v1/infer", headers={"Authorization": f"Bearer {token}"})
            assert "suspended" in refused.headers["www-authenticate"]
            async with db.transaction(pool) as conn:
                await set_member_status(
                    conn,
                    org_id=org,
                    membership_id=membership.id,
                    status="active",
                    actor="admin",
                    now=clock(),
                )
            timings["membership reinstated"] = await until_status(api, token, 200)

            # 2. Suspend the organisation, then reinstate it.
            async with db.transaction(pool) as conn:
                await set_org_status(
                    conn,
                    org_id=org,
                    status="suspended",
                    reason="re-screening",
                    actor="operator",
                    now=clock(),
                    four_eyes=True,
                    rule=ONE_OPERATOR,
                    list_max_age=None,
                )
            timings["organisation suspended"] = await until_status(api, token, 403)
            async with db.transaction(pool) as conn:
                await set_org_status(
                    conn,
                    org_id=org,
                    status="approved",
                    reason="cleared",
                    actor="operator",
                    now=clock(),
                    four_eyes=True,
                    rule=ONE_OPERATOR,
                    list_max_age=None,
                )
            timings["organisation reinstated"] = await until_status(api, token, 200)

            # 3. The org admin removes the member: final.
            async with db.transaction(pool) as conn:
                await set_member_status(
                    conn,
                    org_id=org,
                    membership_id=membership.id,
                    status="removed",
                    actor="admin",
                    now=clock(),
                )
            timings["member removed"] = await until_status(api, token, 403)
            assert (
                "revoked"
                in (
                    await api.get("/v1/infer", headers={"Authorization": f"Bearer {token}"})
                ).headers["www-authenticate"]
            )

            # 4. Enrolled again, a new token; an operator revokes the attestation.
            async with db.transaction(pool) as conn:
                await add_member(conn, clock(), org, user)
            fresh = await browser_token(browser, MODEL)
            assert (
                await api.get("/v1/infer", headers={"Authorization": f"Bearer {fresh}"})
            ).status_code == 200
            attestation: uuid.UUID = await pool.fetchval(
                "SELECT id FROM attestations WHERE user_id = $1 AND kind = 'us_person_basis'", user
            )
            async with db.transaction(pool) as conn:
                await revoke_attestation(
                    conn,
                    attestation,
                    actor="operator",
                    reason="document reported stolen",
                    now=clock(),
                )
            timings["attestation revoked"] = await until_status(api, fresh, 403)
    finally:
        await pool.close()
    for change, seconds in timings.items():
        print(f"{change}: refused/accepted at NGINX after {seconds:.1f} s (ttl {TTL} s)")
    assert all(seconds <= 2 * TTL + 1 for seconds in timings.values())


async def test_scim_deactivation_and_deletion_reach_nginx(
    browser: httpx.AsyncClient, gateway: str, service: str, database_url: str, clock: FakeClock
) -> None:
    pool = await db.create_pool(database_url, min_size=1, max_size=2)
    try:
        async with db.transaction(pool) as conn:
            org = await create_org(conn, clock(), programs=("critical-infrastructure",))
            admin = await create_user(conn, clock(), email="admin@acme.example")
            await add_member(conn, clock(), org, admin, role="admin")
            _token_id, scim_token = await create_token(
                conn, org_id=org, label="Okta", created_by=admin, now=clock()
            )
    finally:
        await pool.close()
    scim = {"Authorization": f"Bearer {scim_token}", "Content-Type": "application/scim+json"}
    user = {"schemas": [SCIM_USER], "userName": "alice@example.com", "active": True}
    created = await browser.post("/scim/v2/Users", json=user, headers=scim)
    assert created.status_code == 201, created.text
    member_url = f"/scim/v2/Users/{created.json()['id']}"
    # The person signs in with a provider that verifies that address: the SCIM-provisioned
    # membership becomes theirs, and the policy's organisation requirement is met.
    await sign_in(browser, "us-citizen")
    token = await browser_token(browser, MODEL)
    timings: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as api:
        assert (
            await api.get("/v1/infer", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 200
        off = {
            "schemas": [SCIM_PATCH],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        }
        assert (await browser.patch(member_url, json=off, headers=scim)).status_code == 200
        timings["SCIM deactivation"] = await until_status(api, token, 403)
        on = {"schemas": [SCIM_PATCH], "Operations": [{"op": "replace", "value": {"active": True}}]}
        assert (await browser.patch(member_url, json=on, headers=scim)).status_code == 200
        timings["SCIM reactivation"] = await until_status(api, token, 200)
        assert (await browser.delete(member_url, headers=scim)).status_code == 204
        timings["SCIM deletion"] = await until_status(api, token, 403)
    for change, seconds in timings.items():
        print(f"{change}: refused/accepted at NGINX after {seconds:.1f} s (ttl {TTL} s)")
    assert all(seconds <= 2 * TTL + 1 for seconds in timings.values())
