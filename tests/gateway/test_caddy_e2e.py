"""Tokens from the running idsvc, checked at a real Caddy (docs/gateways/caddy.Caddyfile)
by the sidecar through forward_auth: the verified claims reach the API, a client's own
X-Eligibility-* headers do not, and the sidecar's refusals (401, and 403 once the token's
status list says revoked) reach the client with their challenge."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.attestations.store import revoke_attestation
from idsvc.policy.model import OrgRequirement, PolicySettings
from idsvc.settings import StatusListSettings
from tests.support.clock import FakeClock, WallClock
from tests.support.demo import browser_token, demo_service, token_subject
from tests.support.factories import add_member, create_org
from tests.support.forge import Key, dpop_proof, token
from tests.support.gateways.caddy import caddy_in_front, eligibility_echo
from tests.support.gateways.nginx import sidecar
from tests.support.signin import sign_in

# Slow tier: `make test` runs it, `make test-fast` leaves it out.
# A real Caddy in front of the service, waiting out the status lists' ttl.
pytestmark = pytest.mark.slow

MODEL = "https://api.example.com/mythos-5"
OTHER = "https://api.example.com/other-model"
CI_MODEL = "https://api.example.com/ci-model"
POLICIES = (
    PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("model:invoke",)),
    PolicySettings(id="other", version=1, audience=OTHER, entitlements=("model:invoke",)),
    PolicySettings(
        id="ci-model",
        version=1,
        audience=CI_MODEL,
        entitlements=("model:invoke",),
        organisation=OrgRequirement(programs=("critical-infrastructure",)),
        disclose=("org",),
    ),
)
TTL = 10  # the status lists' ttl: the shortest idsvc allows
CITIZEN_SUBJECT = "demo-7f3c1a20-us-citizen"  # the demo provider's subject for "us-citizen"


@pytest.fixture
def clock() -> FakeClock:
    return WallClock()


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    lists = StatusListSettings(ttl=TTL)
    with demo_service(database_url, tmp_path, clock, policies=POLICIES, status_lists=lists) as (
        url,
        _,
    ):
        yield url


@pytest.fixture
def gateway(service: str, tmp_path: Path) -> Iterator[str]:
    with (
        sidecar(service, MODEL) as address,
        caddy_in_front(tmp_path, address, api_app=eligibility_echo) as base,
    ):
        yield base


@pytest.fixture
async def browser(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


def bearer(tok: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}", **extra}


async def test_caddy_forwards_the_sidecars_claims_and_refuses_bad_tokens(
    browser: httpx.AsyncClient, gateway: str, service: str
) -> None:
    await sign_in(browser, "us-citizen")
    good = await browser_token(browser, MODEL)
    for_other_audience = await browser_token(browser, OTHER)
    now = int(time.time())
    forged = token(Key(), iss=service, aud=MODEL, iat=now, nbf=now, exp=now + 300)
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as api:
        allowed = await api.get("/v1/infer", headers=bearer(good))
        assert allowed.status_code == 200, allowed.headers.get("www-authenticate")
        verified = allowed.json()
        # Exactly the token's subject; no organisation header at all (this policy discloses
        # none), rather than Caddy's placeholder text for a header the sidecar did not send.
        assert verified["x-eligibility-sub"] == token_subject(good)
        assert verified["x-eligibility-entitlements"] == "model:invoke"
        assert verified["x-eligibility-policy"] == "mythos-5@1"
        assert "x-eligibility-org" not in verified
        # A client's own X-Eligibility-* headers, copied or not, never reach the API.
        spoofed = await api.get(
            "/v1/infer",
            headers=bearer(
                good,
                **{"X-Eligibility-Sub": "admin", "x-eligibility-org": "acme"},
                **{"X-Eligibility-Jti": "chosen", "X-Eligibility-Role": "operator"},
            ),
        )
        assert spoofed.status_code == 200
        assert spoofed.json() == verified
        # Without a token, a client's own headers get it nothing.
        missing = await api.get("/v1/infer", headers={"X-Eligibility-Sub": "admin"})
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert "admin" not in missing.text
        wrong_audience = await api.get("/v1/infer", headers=bearer(for_other_audience))
        assert wrong_audience.status_code == 401
        assert 'error="invalid_token"' in wrong_audience.headers["www-authenticate"]
        unknown_key = await api.get("/v1/infer", headers=bearer(forged))
        assert unknown_key.status_code == 401
        assert 'error="invalid_token"' in unknown_key.headers["www-authenticate"]


async def test_dpop_proofs_are_checked_against_the_request_caddy_saw(
    browser: httpx.AsyncClient, gateway: str, service: str
) -> None:
    await sign_in(browser, "us-citizen")
    holder = Key()
    issuance_proof = dpop_proof(
        holder, "", ath=None, htu=f"{service}/v1/eligibility-tokens", iat=time.time()
    )
    bound = await browser_token(browser, MODEL, dpop=issuance_proof)
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as api:
        proof = dpop_proof(holder, bound, htm="POST", htu=f"{gateway}/v1/infer", iat=time.time())
        dpop = {"Authorization": f"DPoP {bound}", "DPoP": proof}
        ok = await api.post("/v1/infer", headers=dpop)
        assert ok.status_code == 200, ok.headers.get("www-authenticate")
        assert ok.json()["x-eligibility-sub"] == token_subject(bound)
        replay = await api.post("/v1/infer", headers=dpop)
        assert replay.status_code == 401
        assert "dpop_replayed" in replay.headers["www-authenticate"]
        # A proof for another URL than the one Caddy received (X-Original-URL) fails.
        elsewhere = dpop_proof(
            holder, bound, htm="POST", htu=f"{gateway}/v1/other", iat=time.time()
        )
        moved = await api.post(
            "/v1/infer", headers={"Authorization": f"DPoP {bound}", "DPoP": elsewhere}
        )
        assert moved.status_code == 401
        downgraded = await api.post("/v1/infer", headers=bearer(bound))
        assert downgraded.status_code == 401
        assert downgraded.headers["www-authenticate"].startswith("DPoP ")


async def test_revoked_tokens_are_refused_at_caddy_within_the_lists_ttl(
    browser: httpx.AsyncClient, service: str, database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    await sign_in(browser, "us-citizen")
    pool = await db.create_pool(database_url, min_size=1, max_size=1)
    try:
        user = await pool.fetchval(
            "SELECT user_id FROM identities WHERE subject = $1", CITIZEN_SUBJECT
        )
        async with db.transaction(pool) as conn:
            org = await create_org(conn, clock(), programs=("critical-infrastructure",))
            await add_member(conn, clock(), org, user)
        good = await browser_token(browser, CI_MODEL)
        with (
            sidecar(service, CI_MODEL) as address,
            caddy_in_front(tmp_path, address, api_app=eligibility_echo) as gateway,
        ):
            async with httpx.AsyncClient(base_url=gateway, timeout=10) as api:
                allowed = await api.get("/v1/infer", headers=bearer(good))
                assert allowed.status_code == 200, allowed.headers.get("www-authenticate")
                # A header the sidecar does send is copied as it is.
                assert allowed.json()["x-eligibility-org"] == str(org)
                assert allowed.json()["x-eligibility-sub"] == token_subject(good)
                attestation = await pool.fetchval(
                    "SELECT id FROM attestations WHERE user_id = $1 AND kind = 'us_person_basis'",
                    user,
                )
                async with db.transaction(pool) as conn:
                    assert await revoke_attestation(
                        conn, attestation, actor="operator", reason="document reported stolen",
                        now=clock(),
                    )  # fmt: skip
                started = time.monotonic()
                while True:
                    refused = await api.get("/v1/infer", headers=bearer(good))
                    if refused.status_code != 200 or time.monotonic() - started > 2 * TTL + 5:
                        break
                    await asyncio.sleep(0.2)
                elapsed = time.monotonic() - started
    finally:
        await pool.close()
    assert refused.status_code == 403
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert "revoked" in refused.headers["www-authenticate"]
    # Within the list's ttl plus the sidecar's refresh (both the ttl here).
    print(f"attestation revoked: refused at Caddy after {elapsed:.1f} s (ttl {TTL} s)")
    assert elapsed <= 2 * TTL + 1


async def test_caddy_refuses_expired_tokens(database_url: str, tmp_path: Path) -> None:
    # An idsvc whose clock runs an hour behind issues tokens that expired an hour ago by the
    # wall clock the sidecar uses (its 30 s leeway would make a 1 s token wait half a minute).
    late = WallClock()
    late.advance(-3600)
    with (
        demo_service(database_url, tmp_path, late, policies=POLICIES) as (service, _),
        sidecar(service, MODEL) as address,
        caddy_in_front(tmp_path, address) as gateway,
    ):
        async with httpx.AsyncClient(base_url=service, timeout=10) as browser:
            await sign_in(browser, "us-citizen")
            expired = await browser_token(browser, MODEL)
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as api:
            refused = await api.get("/v1/infer", headers=bearer(expired))
    assert refused.status_code == 401
    assert "expired" in refused.headers["www-authenticate"]
