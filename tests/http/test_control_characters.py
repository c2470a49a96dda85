"""Text with NUL or other control characters, sent to every kind of input: JSON bodies,
forms, query strings. Each answers a 4xx and stores nothing (found: NUL reached PostgreSQL
and answered 500 in org requests, invitations, SCIM token labels, reasons, searches)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from idsvc.mail.senders import ConsoleMailer
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org
from tests.support.settings import make_settings
from tests.support.signin import call, session_caller
from tests.support.vetting import OPERATOR_SUBJECT, org_request

Client = AsyncTestClient[Litestar]
BAD = ["nul\u0000here", "bell\u0007", "escape\u001b[31m", "c1\u0085", "rtl\u202eoverride"]


@pytest.fixture
async def client(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Client]:
    settings = make_settings(database_url, tmp_path, cookie_secure=False)
    app = create_app(settings, clock=clock, mailer=ConsoleMailer())
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.mark.parametrize("text", BAD)
async def test_json_bodies_refuse_control_characters(
    client: Client, pool: db.Pool, clock: FakeClock, text: str
) -> None:
    admin = await session_caller(pool, clock(), us_person=True)
    operator = await session_caller(pool, clock(), subject=OPERATOR_SUBJECT)
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        await add_member(conn, clock(), org, admin.user_id, role="admin")
    before = await pool.fetchval("SELECT count(*) FROM audit_events")
    attempts = [
        (admin, "POST", "/v1/orgs", org_request(contact_email=f"a{text}@b.example")),
        (admin, "POST", "/v1/orgs", org_request(legal_name=f"Acme {text}")),
        (admin, "POST", f"/v1/orgs/{org}/invitations", {"emails": [f"x{text}@acme.example"]}),
        (admin, "POST", f"/v1/orgs/{org}/scim-tokens", {"label": f"Okta {text}"}),
        (operator, "POST", f"/v1/operator/orgs/{org}/status",
         {"status": "suspended", "reason": f"documents {text} checked"}),
    ]  # fmt: skip
    for caller, method, url, body in attempts:
        response = await call(client, caller, method, url, body)
        assert 400 <= response.status_code < 500, (url, response.status_code, response.text)
    assert await pool.fetchval("SELECT count(*) FROM audit_events") == before


async def test_query_strings_refuse_nul(client: Client, pool: db.Pool, clock: FakeClock) -> None:
    admin = await session_caller(pool, clock(), us_person=True)
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        await add_member(conn, clock(), org, admin.user_id, role="admin")
    for url in (
        f"/v1/orgs/{org}/members?q=a%00b",
        f"/console/my-orgs/{org}?q=a%00b",
        f"/v1/orgs/{org}/members?after=x%00y%7C{uuid.uuid4()}",
    ):
        response = await call(client, admin, "GET", url)
        assert response.status_code < 500, (url, response.text)


async def test_forms_and_csv_files_refuse_control_characters(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    admin = await session_caller(pool, clock(), us_person=True)
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        await add_member(conn, clock(), org, admin.user_id, role="admin")
    before = await pool.fetchval("SELECT count(*) FROM audit_events")
    client.cookies.update(admin.cookies)
    form = await client.post(
        f"/console/my-orgs/{org}/scim-tokens",
        data={"label": "Okta\u0000", "csrf_token": admin.headers["x-csrf-token"]},
    )
    assert form.status_code == 400, form.text
    for body in ("email,role\nann\u0000@acme.example,member\n", "email\nann@acme.example\u0007\n"):
        for dry_run in ("true", "false"):
            response = await client.post(
                f"/v1/orgs/{org}/members:import?dry_run={dry_run}",
                content=body.encode(),
                headers={**admin.headers, "content-type": "text/csv"},
            )
            assert 400 <= response.status_code < 500, (body, response.text)
    client.cookies.clear()
    assert await pool.fetchval("SELECT count(*) FROM audit_events") == before


async def test_a_csv_naming_a_column_twice_is_refused(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    admin = await session_caller(pool, clock(), us_person=True)
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        await add_member(conn, clock(), org, admin.user_id, role="admin")
    client.cookies.update(admin.cookies)
    response = await client.post(
        f"/v1/orgs/{org}/members:import?dry_run=true",
        content=b"email,email\nann@acme.example,bob@acme.example\n",
        headers={**admin.headers, "content-type": "text/csv"},
    )
    client.cookies.clear()
    assert response.status_code == 422
    assert "named twice" in response.text
