"""Sessions (cookie attributes, idle timeout), sign-in rate limits, and linking a second
identity to a signed-in account (never by e-mail alone)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from idsvc import db
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.signin import choose_persona, confirm_link, sign_in


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, signin_rate_limit=8) as (url, _):
        yield url


@pytest.fixture
async def client(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


async def count(database_url: str, sql: str) -> int:
    conn = await db.connect(database_url)
    try:
        value: int = await conn.fetchval(sql)
        return value
    finally:
        await conn.close()


async def test_signed_in_user_links_a_second_identity(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await sign_in(client, "email-only")  # e.g. the company sign-in
    # then a proofing provider, while signed in: linked once this browser confirms it
    linked = await confirm_link(client, await sign_in(client, "us-citizen"))
    assert linked.status_code == 303, linked.text
    assert await count(database_url, "SELECT count(*) FROM users") == 1
    assert await count(database_url, "SELECT count(DISTINCT user_id) FROM identities") == 1
    assert (await client.get("/v1/me")).json()["us_person"] is not None


async def test_an_identity_of_another_account_is_never_moved(
    service: str, database_url: str
) -> None:
    async with httpx.AsyncClient(base_url=service, timeout=10) as first:
        await sign_in(first, "us-citizen")
    async with httpx.AsyncClient(base_url=service, timeout=10) as second:
        await sign_in(second, "email-only")
        refused = await sign_in(second, "us-citizen")
        assert refused.status_code == 400
        assert "identity_in_use" in refused.text
    assert await count(database_url, "SELECT count(*) FROM users") == 2
    assert await count(database_url, "SELECT count(DISTINCT user_id) FROM identities") == 2


async def test_idle_session_expires(client: httpx.AsyncClient, clock: FakeClock) -> None:
    await sign_in(client, "us-citizen")
    clock.advance(1700)
    assert (await client.get("/v1/me")).status_code == 200  # use moves the idle window
    clock.advance(1700)
    assert (await client.get("/v1/me")).status_code == 200
    clock.advance(1801)
    assert (await client.get("/v1/me")).status_code == 401


async def test_sign_in_attempts_are_rate_limited(client: httpx.AsyncClient) -> None:
    statuses = [(await client.get("/login/demo")).status_code for _ in range(10)]
    assert statuses[:8] == [303] * 8
    limited = await client.get("/login/demo")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert limited.json()["type"] == "urn:idsvc:problem:rate_limited"


async def test_unknown_provider_is_a_clear_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/login/nope")
    assert response.status_code == 404


async def test_return_to_cannot_leave_the_site(client: httpx.AsyncClient) -> None:
    start = await client.get("/login/demo", params={"return_to": "https://evil.example/x"})
    callback = await choose_persona(client, start.headers["location"], "us-citizen")
    done = await client.get(callback)
    assert done.headers["location"] == "/me"


@pytest.fixture
def secure_service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, cookie_secure=True) as (url, _):
        yield url


async def test_cookie_is_secure_outside_local_development(secure_service: str) -> None:
    async with httpx.AsyncClient(base_url=secure_service, timeout=10) as client:
        start = await client.get("/login/demo")
        binding = start.headers["set-cookie"]
        # __Host-: the browser keeps it only when Secure, Path=/ and without Domain.
        assert binding.startswith("__Host-idsvc_signin=")
        assert "Secure" in binding
        assert "Path=/" in binding
        assert "domain" not in binding.lower()
        assert "HttpOnly" in binding
        assert "samesite=lax" in binding.lower()
        callback = await choose_persona(client, start.headers["location"], "us-citizen")
        # httpx keeps Secure cookies from plain http; send it back as an https browser would.
        response = await client.get(
            callback, headers={"cookie": binding.split(";")[0]}, cookies=None
        )
    assert response.status_code == 303, response.text
    cookies = response.headers.get_list("set-cookie")
    # __Host- as well: a sibling subdomain cannot plant a session of its own choosing.
    session = next(c for c in cookies if c.startswith("__Host-idsvc_session=")).lower()
    assert "path=/" in session
    assert "domain" not in session
    assert "secure" in session
    assert "httponly" in session
    assert "samesite=lax" in session
    assert any(c.startswith("__Host-idsvc_signin=") and "Max-Age=0" in c for c in cookies)
