"""Inputs an attacker or a fuzzer sends that answered 500 before (issue: no input can cause
a 500): each is now a 4xx that changes nothing."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from tests.support.clock import FakeClock
from tests.support.settings import make_settings
from tests.support.signin import session_caller


@pytest.fixture
async def client(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = make_settings(database_url, tmp_path, cookie_secure=False)
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        yield client


async def test_a_status_list_id_beyond_bigint_is_not_found(
    client: AsyncTestClient[Litestar],
) -> None:
    for list_id in ("99999999999999999999", "9223372036854775808", "0", "-1"):
        response = await client.get(f"/status-lists/{list_id}")
        assert response.status_code in (400, 404), (list_id, response.text)


async def test_non_ascii_basic_credentials_at_the_token_endpoint(
    client: AsyncTestClient[Litestar],
) -> None:
    for raw in ("clïent:sëcret".encode(), b"\xff\xfe:\x00", b"no-colon"):
        response = await client.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
        )
        assert response.status_code in (400, 401), (raw, response.text)
    response = await client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic ünïcode".encode()},
    )
    assert response.status_code in (400, 401), response.text


async def test_a_non_ascii_csrf_token_is_refused(
    client: AsyncTestClient[Litestar], pool: db.Pool, clock: FakeClock
) -> None:
    caller = await session_caller(pool, clock())
    client.cookies.update(caller.cookies)
    before = await pool.fetchval("SELECT count(*) FROM audit_events")
    header = await client.post(
        "/v1/eligibility-tokens",
        json={"audience": "x"},
        headers={"X-CSRF-Token": ("é" * 43).encode()},
    )
    assert header.status_code == 403, header.text
    form = await client.post("/logout", data={"csrf_token": "токен"}, follow_redirects=False)
    assert form.status_code in (400, 403), form.text
    assert await pool.fetchval("SELECT count(*) FROM audit_events") == before
