"""Invitations end to end: an admin invites by e-mail, the message goes through a real
SMTP server on loopback (aiosmtpd), the invitee follows the link, signs in through the
demo provider and accepts. Wrong accounts, reuse, expiry and withdrawal are refused."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from idsvc import db
from idsvc.settings import SmtpSettings
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org, create_user
from tests.support.mailbox import Inbox
from tests.support.serving import free_port, serve_in_thread
from tests.support.settings import make_settings
from tests.support.signin import session_caller, sign_in

LINK = re.compile(r"(http://\S+/invitations/idsvc_inv_\S+)")


@pytest.fixture
def service(
    database_url: str, tmp_path: Path, clock: FakeClock, inbox: tuple[Inbox, int]
) -> Iterator[str]:
    from idsvc.app import create_app
    from idsvc.devidp.wiring import demo_provider

    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    settings = make_settings(database_url, tmp_path, issuer=issuer, cookie_secure=False)
    smtp = SmtpSettings(
        host="127.0.0.1", port=inbox[1], security="none", from_address="idsvc@acme.example"
    )
    settings = msgspec.structs.replace(
        settings, config=msgspec.structs.replace(settings.config, smtp=smtp)
    )
    provider, route = demo_provider(issuer, clock=clock.timestamp)
    app = create_app(settings, clock=clock, extra_providers=(provider,), extra_routes=(route,))
    with serve_in_thread(app, port=port) as base:
        yield base


@pytest.fixture
async def admin_browser(
    service: str, pool: db.Pool, clock: FakeClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock(), name="Acme Analytics")
        admin_id = await create_user(conn, clock(), email="admin@acme.example")
        await add_member(conn, clock(), org, admin_id, role="admin")
    caller = await session_caller(pool, clock(), user_id=admin_id)
    async with httpx.AsyncClient(
        base_url=service, timeout=10, cookies=caller.cookies, headers=caller.headers
    ) as client:
        yield client, org


async def sign_in_as(client: httpx.AsyncClient, persona: str, return_to: str) -> None:
    done = await sign_in(client, persona, return_to=return_to)
    assert done.status_code == 303
    assert done.headers["location"] == return_to


async def test_an_invitation_travels_by_smtp_and_is_accepted_once(
    service: str,
    admin_browser: tuple[httpx.AsyncClient, Any],
    inbox: tuple[Inbox, int],
    pool: db.Pool,
) -> None:
    admin, org = admin_browser
    response = await admin.post(
        f"/v1/orgs/{org}/invitations", json={"emails": ["Alice@Example.com"], "role": "member"}
    )
    assert response.status_code == 201, response.text
    [outcome] = response.json()
    assert outcome["outcome"] == "sent"
    [message] = inbox[0].messages
    assert message["To"] == "alice@example.com"
    assert "Acme Analytics" in message["Subject"]
    link = LINK.search(message.get_payload(decode=True).decode())
    assert link is not None
    path = httpx.URL(link.group(1)).path
    code = path.rsplit("/", 1)[1]
    # The code is stored hashed only.
    assert (
        await pool.fetchval("SELECT count(*) FROM invitations WHERE code_hash = $1", code.encode())
        == 0
    )

    async with httpx.AsyncClient(base_url=service, timeout=10) as invitee:
        page = await invitee.get(path)
        assert "Sign in with the demo identity provider" in page.text
        await sign_in_as(invitee, "us-citizen", path)  # Alice's provider verifies alice@example.com
        page = await invitee.get(path)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        accepted = await invitee.post(path, data={"csrf_token": csrf})
        assert accepted.status_code == 200
        assert "you are now a member of" in accepted.text
        again = await invitee.post(path, data={"csrf_token": csrf})
        assert again.status_code == 404
    row = await pool.fetchrow(
        "SELECT status, user_id FROM memberships WHERE id = $1", uuid.UUID(outcome["membership_id"])
    )
    assert row["status"] == "active"
    assert row["user_id"] is not None


async def csrf_of(client: httpx.AsyncClient) -> str:
    page = (await client.get("/me")).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def last_code(inbox: tuple[Inbox, int]) -> str:
    text = inbox[0].messages[-1].get_payload(decode=True).decode()
    return LINK.search(text).group(1).rsplit("/", 1)[1]  # type: ignore[union-attr]


async def test_the_wrong_account_is_refused_without_using_the_code_and_codes_expire(
    service: str,
    admin_browser: tuple[httpx.AsyncClient, Any],
    inbox: tuple[Inbox, int],
    clock: FakeClock,
    pool: db.Pool,
) -> None:
    admin, org = admin_browser
    await admin.post(f"/v1/orgs/{org}/invitations", json={"emails": ["alice@example.com"]})
    code = last_code(inbox)
    async with httpx.AsyncClient(base_url=service, timeout=10) as frieda:
        await sign_in_as(frieda, "foreign-national", "/me")  # frieda@example.com
        wrong = await frieda.post(
            "/v1/invitations/accept",
            json={"code": code},
            headers={"x-csrf-token": await csrf_of(frieda)},
        )
        assert wrong.status_code == 403
        assert wrong.json()["type"] == "urn:idsvc:problem:invitation_wrong_account"
    async with httpx.AsyncClient(base_url=service, timeout=10) as alice:
        await sign_in_as(alice, "us-citizen", "/me")
        accepted = await alice.post(
            "/v1/invitations/accept",
            json={"code": code},
            headers={"x-csrf-token": await csrf_of(alice)},
        )
        assert accepted.status_code == 200, accepted.text
    # A second organisation's invitation, left to expire.
    async with db.transaction(pool) as conn:
        other = await create_org(conn, clock(), name="Other Corp")
        admin_id = await pool.fetchval("SELECT id FROM users WHERE email = 'admin@acme.example'")
        await add_member(conn, clock(), other, admin_id, role="admin")
    await admin.post(f"/v1/orgs/{other}/invitations", json={"emails": ["alice@example.com"]})
    late_code = last_code(inbox)
    clock.advance(8 * 86_400)  # past the default seven days
    async with httpx.AsyncClient(base_url=service, timeout=10) as alice:
        await sign_in_as(alice, "us-citizen", "/me")
        late = await alice.post(
            "/v1/invitations/accept",
            json={"code": late_code},
            headers={"x-csrf-token": await csrf_of(alice)},
        )
        assert late.status_code == 404
        assert late.json()["type"] == "urn:idsvc:problem:invitation_invalid"


async def test_resend_withdraw_existing_members_and_other_organisations(
    service: str,
    admin_browser: tuple[httpx.AsyncClient, Any],
    inbox: tuple[Inbox, int],
    pool: db.Pool,
    clock: FakeClock,
) -> None:
    admin, org = admin_browser
    first = (
        await admin.post(
            f"/v1/orgs/{org}/invitations",
            json={"emails": ["bo@acme.example", "admin@acme.example"]},
        )
    ).json()
    assert [o["outcome"] for o in first] == ["sent", "already_member"]
    membership = first[0]["membership_id"]
    old_code = (
        LINK.search(inbox[0].messages[-1].get_payload(decode=True).decode())
        .group(1)
        .rsplit("/", 1)[1]
    )  # type: ignore[union-attr]
    resent = await admin.post(f"/v1/orgs/{org}/invitations/{membership}/resend")
    assert resent.json()["outcome"] == "sent"
    assert len(inbox[0].messages) == 2
    assert (await admin.get(f"/invitations/{old_code}")).status_code == 404  # the old code died
    bad = await admin.post(f"/v1/orgs/{org}/invitations", json={"emails": ["not an address"]})
    assert bad.status_code == 400
    async with db.transaction(pool) as conn:
        other = await create_org(conn, clock(), name="Other Corp")
    assert (
        await admin.post(f"/v1/orgs/{other}/invitations", json={"emails": ["x@other.example"]})
    ).status_code == 404
    assert (await admin.delete(f"/v1/orgs/{other}/invitations/{membership}")).status_code == 404
    assert (await admin.delete(f"/v1/orgs/{org}/invitations/{membership}")).status_code == 204
    assert (
        await pool.fetchval("SELECT status FROM memberships WHERE id = $1", uuid.UUID(membership))
        == "removed"
    )
    assert len(inbox[0].messages) == 2  # nothing sent for refused requests
