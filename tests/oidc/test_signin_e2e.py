"""Sign-in end to end over real HTTP against the demo OpenID Provider on loopback:
each persona signs in, its attestations are recorded, and the status page shows them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.signin import sign_in


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock) as (base_url, _):
        yield base_url


@pytest.fixture
async def client(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


@pytest.mark.parametrize(
    ("persona", "us_person", "nationalities"),
    [
        ("us-citizen", "U.S. citizen", ["US"]),
        ("permanent-resident", "lawful permanent resident", ["MX"]),
        ("foreign-national", None, ["DE"]),
        ("dual-national", "U.S. citizen", ["CN", "US"]),
        ("low-assurance", "U.S. citizen", ["US"]),
    ],
)
async def test_persona_signs_in_and_sees_the_right_status(
    client: httpx.AsyncClient,
    database_url: str,
    persona: str,
    us_person: str | None,
    nationalities: list[str],
) -> None:
    callback = await sign_in(client, persona)
    assert callback.status_code == 303, callback.text
    assert callback.headers["location"] == "/me"
    cookie = callback.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie

    page = await client.get("/me")
    assert page.status_code == 200
    if persona == "low-assurance":
        # Found: a green "Verified U.S. person ... IAL1" beside "not yet" for every service.
        assert "Verified U.S. person" not in page.text
        assert f"U.S.-person status ({us_person}) is recorded at assurance IAL1 only" in page.text
        assert "Verify it with a provider that checks an identity document" in page.text
    elif us_person:
        assert f"Verified U.S. person ({us_person})" in page.text
    else:
        assert "U.S.-person status is not verified" in page.text
    api = (await client.get("/v1/me")).json()
    recorded = {a["kind"]: a["values"] for a in api["attestations"]}
    assert recorded["nationalities"] == ", ".join(nationalities)
    if persona == "low-assurance":
        assert api["us_person"]["assurance"] == "IAL1"

    conn = await asyncpg.connect(database_url)
    try:
        actions = [r["action"] for r in await conn.fetch("SELECT action FROM audit_events")]
    finally:
        await conn.close()
    assert "signin.succeeded" in actions
    assert "attestation.recorded" in actions
    assert "user.created" in actions


async def test_signing_in_again_supersedes_not_overwrites(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await sign_in(client, "us-citizen")
    await sign_in(client, "us-citizen")
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT superseded_by FROM attestations WHERE kind = 'nationalities'"
        )
        users = await conn.fetchval("SELECT count(*) FROM users")
    finally:
        await conn.close()
    assert len(rows) == 2
    assert sum(r["superseded_by"] is None for r in rows) == 1
    assert users == 1


async def test_session_rotates_at_sign_in_and_logout_ends_it(client: httpx.AsyncClient) -> None:
    first = (await sign_in(client, "us-citizen")).cookies["idsvc_session"]
    second = (await sign_in(client, "us-citizen")).cookies["idsvc_session"]
    assert first != second
    stale = httpx.AsyncClient(base_url=str(client.base_url), cookies={"idsvc_session": first})
    async with stale:
        assert (await stale.get("/v1/me")).status_code == 401
    page = await client.get("/me")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert (await client.post("/logout", data={"csrf_token": "forged"})).status_code == 403
    out = await client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    client.cookies.set("idsvc_session", second)
    assert (await client.get("/v1/me")).status_code == 401


async def test_status_page_requires_a_session(client: httpx.AsyncClient) -> None:
    response = await client.get("/me")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert (await client.get("/v1/me")).status_code == 401


async def test_logs_carry_no_personal_data(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from idsvc.http.logs import JsonFormatter

    with caplog.at_level(logging.DEBUG):
        await sign_in(client, "dual-national")
        await client.get("/me")
    formatter = JsonFormatter()
    lines = "\n".join(formatter.format(r) for r in caplog.records if r.name.startswith("idsvc"))
    assert '"logger":"idsvc.access"' in lines  # the server's access lines were captured
    for personal in ("alice", "Alice", "@example.com", "CHN", "citizen", "code=", "state="):
        assert personal not in lines
