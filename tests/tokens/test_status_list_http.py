"""GET /status-lists/{id} as gateways see it, and the verifier following a revocation."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.attestations.store import revoke_attestation
from idsvc.policy.model import PolicySettings
from idsvc.settings import StatusListSettings
from idsvc.verify import StatusUnavailable, TokenRevoked, Verifier
from tests.support.clock import FakeClock, WallClock
from tests.support.demo import browser_token, demo_service
from tests.support.signin import sign_in

MODEL = "https://api.example.com/mythos-5"
POLICY = PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("model:invoke",))


@pytest.fixture
def clock() -> FakeClock:
    return WallClock()


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    lists = StatusListSettings(ttl=60)
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,), status_lists=lists) as (
        url,
        _,
    ):
        yield url


@pytest.fixture
async def browser(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


def part(jwt: str, n: int) -> dict[str, object]:
    segment = jwt.split(".")[n]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))  # type: ignore[no-any-return]


async def test_the_list_is_a_signed_statuslist_jwt_with_cache_headers(
    browser: httpx.AsyncClient, service: str
) -> None:
    await sign_in(browser, "us-citizen")
    token = await browser_token(browser, MODEL)
    reference = part(token, 1)["status"]["status_list"]  # type: ignore[index]
    uri = reference["uri"]
    assert uri.startswith(f"{service}/status-lists/")
    response = await browser.get(uri)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/statuslist+jwt"
    assert response.headers["cache-control"] == "public, max-age=60"
    header, claims = part(response.text, 0), part(response.text, 1)
    assert header["typ"] == "statuslist+jwt"
    assert claims["sub"] == uri
    assert claims["iss"] == service
    assert claims["ttl"] == 60
    assert claims["status_list"]["bits"] == 2  # type: ignore[index]
    unchanged = await browser.get(uri, headers={"If-None-Match": response.headers["etag"]})
    assert unchanged.status_code == 304
    assert (await browser.get("/status-lists/999999")).status_code == 404
    assert (await browser.get("/status-lists/not-a-number")).status_code in (400, 404)


async def test_a_verifier_refuses_the_token_once_its_list_says_revoked(
    browser: httpx.AsyncClient, service: str, database_url: str, clock: FakeClock
) -> None:
    await sign_in(browser, "us-citizen")
    token = await browser_token(browser, MODEL)
    now = [time.time()]
    verifier = Verifier(
        issuer=service,
        audience=MODEL,
        jwks_url=f"{service}/.well-known/jwks.json",
        clock=lambda: now[0],
    )
    assert verifier.verify(token).aud == MODEL
    uri = part(token, 1)["status"]["status_list"]["uri"]  # type: ignore[index]
    before = (await browser.get(uri)).headers["etag"]
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
    # The service rebuilds the list once the change is announced (LISTEN/NOTIFY).
    deadline = time.monotonic() + 10
    while (await browser.get(uri)).headers["etag"] == before:
        assert time.monotonic() < deadline, "the served list never changed"
        await asyncio.sleep(0.05)
    # Within its ttl the gateway still uses the list it has; after it, the new one.
    assert verifier.verify(token).aud == MODEL
    now[0] += 61
    with pytest.raises(TokenRevoked):
        verifier.verify(token)


async def test_an_unreachable_list_fails_closed_unless_the_operator_chose_otherwise(
    browser: httpx.AsyncClient, tmp_path: Path
) -> None:
    await sign_in(browser, "us-citizen")
    token = await browser_token(browser, MODEL)
    jwks = (await browser.get("/.well-known/jwks.json")).json()
    issuer = str(browser.base_url).rstrip("/")
    # An air-gapped gateway reads lists from a folder; here the list was never copied in.
    closed = Verifier(issuer=issuer, audience=MODEL, jwks=jwks, status_list_dir=tmp_path)
    with pytest.raises(StatusUnavailable):
        closed.verify(token)
    opened = Verifier(
        issuer=issuer,
        audience=MODEL,
        jwks=jwks,
        status_list_dir=tmp_path,
        fail_open_on_stale_status=True,
    )
    assert opened.verify(token).aud == MODEL
    # Once the list is there, the folder serves it like the URL would.
    uri = part(token, 1)["status"]["status_list"]["uri"]  # type: ignore[index]
    (tmp_path / uri.rsplit("/", 1)[1]).write_bytes((await browser.get(uri)).content)
    assert closed.verify(token).aud == MODEL
