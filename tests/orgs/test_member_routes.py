"""Org admins manage members over HTTP: list with eligibility, state and role changes, CSV
import. Every route is tried with another organisation's ids and by non-admins."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from idsvc.attestations.mapping import AttestationDraft
from idsvc.attestations.store import record_attestations
from idsvc.policy.model import OrgRequirement, PolicySettings
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org
from tests.support.settings import make_settings
from tests.support.signin import Caller, session_caller

MODEL = "https://api.example.com/ci-model"
POLICY = PolicySettings(
    id="ci", version=1, audience=MODEL, entitlements=("invoke",), organisation=OrgRequirement()
)


@pytest.fixture
async def client(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = make_settings(database_url, tmp_path, policies=(POLICY,), cookie_secure=False)
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        yield client


class World:
    def __init__(
        self,
        org: uuid.UUID,
        other: uuid.UUID,
        admin: Caller,
        member: Caller,
        other_admin: Caller,
        stranger: Caller,
        member_id: uuid.UUID,
        other_member_id: uuid.UUID,
    ) -> None:
        self.org, self.other, self.admin, self.member = org, other, admin, member
        self.other_admin, self.stranger = other_admin, stranger
        self.member_id, self.other_member_id = member_id, other_member_id


@pytest.fixture
async def world(pool: db.Pool, clock: FakeClock) -> World:
    admin = await session_caller(pool, clock(), email="admin@acme.example")
    member = await session_caller(pool, clock(), email="bo@acme.example")
    other_admin = await session_caller(pool, clock(), email="admin@other.example")
    stranger = await session_caller(pool, clock(), email="eve@evil.example")
    drafts = [
        AttestationDraft(
            kind=k,
            values=v,
            trust_framework="t",
            assurance="IAL2",
            verified_at=clock() - timedelta(days=1),
            expires_at=clock() + timedelta(days=300),
            evidence=(),
        )
        for k, v in (("nationalities", ("US",)), ("us_person_basis", ("citizen",)))
    ]
    async with db.transaction(pool) as conn:
        await record_attestations(
            conn, user_id=member.user_id, provider="p", drafts=drafts, now=clock()
        )
        org = await create_org(conn, clock())
        other = await create_org(conn, clock(), name="Other Corp")
        await add_member(conn, clock(), org, admin.user_id, role="admin")
        membership = await add_member(conn, clock(), org, member.user_id)
        await add_member(conn, clock(), other, other_admin.user_id, role="admin")
        other_member = await add_member(conn, clock(), other, stranger.user_id)
    return World(org, other, admin, member, other_admin, stranger, membership.id, other_member.id)


def as_(client: AsyncTestClient[Litestar], caller: Caller) -> dict[str, str]:
    client.cookies.clear()
    client.cookies.update(caller.cookies)
    return caller.headers


async def snapshot(pool: db.Pool) -> list[tuple[object, ...]]:
    rows = await pool.fetch("SELECT id, user_id, email, role, status FROM memberships ORDER BY id")
    return [tuple(r) for r in rows]


async def test_admins_see_members_with_eligibility_but_no_nationality(
    client: AsyncTestClient[Litestar], world: World
) -> None:
    as_(client, world.admin)
    response = await client.get(f"/v1/orgs/{world.org}/members")
    assert response.status_code == 200, response.text
    members = {m["email"]: m for m in response.json()["members"]}
    assert members["bo@acme.example"]["eligibility"] == [
        {"audience": MODEL, "eligible": True, "state": "eligible"}
    ]
    assert members["admin@acme.example"]["eligibility"][0]["state"] == "needs_verification"
    assert "attestation_missing" not in response.text  # states, never reasons
    assert "US" not in response.text
    assert "citizen" not in response.text
    searched = await client.get(f"/v1/orgs/{world.org}/members", params={"q": "bo@"})
    assert [m["email"] for m in searched.json()["members"]] == ["bo@acme.example"]
    first = await client.get(f"/v1/orgs/{world.org}/members", params={"limit": 1})
    second = await client.get(
        f"/v1/orgs/{world.org}/members", params={"limit": 1, "after": first.json()["next"]}
    )
    assert first.json()["members"][0]["email"] == "admin@acme.example"
    assert second.json()["members"][0]["email"] == "bo@acme.example"


async def test_other_organisations_and_non_admins_are_refused_and_nothing_changes(
    client: AsyncTestClient[Litestar], world: World, pool: db.Pool
) -> None:
    before = await snapshot(pool)
    csv = "email\nnew@acme.example\n"
    attempts = [
        # The other org's admin, on our org's routes.
        (world.other_admin, "GET", f"/v1/orgs/{world.org}/members", None, 404),
        (
            world.other_admin,
            "POST",
            f"/v1/orgs/{world.org}/members/{world.member_id}/status",
            {"status": "removed"},
            404,
        ),
        (world.other_admin, "POST", f"/v1/orgs/{world.org}/members:import", csv, 404),
        # Our admin, on the other org's member, through our org's id and through theirs.
        (
            world.admin,
            "POST",
            f"/v1/orgs/{world.org}/members/{world.other_member_id}/status",
            {"status": "removed"},
            404,
        ),
        (
            world.admin,
            "POST",
            f"/v1/orgs/{world.other}/members/{world.other_member_id}/role",
            {"role": "admin"},
            404,
        ),
        (world.admin, "POST", f"/v1/orgs/{world.other}/members:import", csv, 404),
        # A plain member of our org.
        (world.member, "GET", f"/v1/orgs/{world.org}/members", None, 403),
        (
            world.member,
            "POST",
            f"/v1/orgs/{world.org}/members/{world.member_id}/role",
            {"role": "admin"},
            403,
        ),
        (world.member, "POST", f"/v1/orgs/{world.org}/members:import", csv, 403),
    ]
    for caller, method, path, body, expected in attempts:
        headers = as_(client, caller)
        if isinstance(body, str):
            response = await client.post(
                path, content=body, headers={**headers, "content-type": "text/csv"}
            )
        elif method == "POST":
            response = await client.post(path, json=body, headers=headers)
        else:
            response = await client.get(path)
        assert response.status_code == expected, (path, response.text)
    assert await snapshot(pool) == before


async def test_state_and_role_changes_and_the_last_admin(
    client: AsyncTestClient[Litestar], world: World, pool: db.Pool
) -> None:
    headers = as_(client, world.admin)
    base = f"/v1/orgs/{world.org}/members/{world.member_id}"
    suspended = await client.post(
        f"{base}/status",
        json={"status": "suspended", "reason": "left the project"},
        headers=headers,
    )
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    assert (
        await client.post(f"{base}/status", json={"status": "active"}, headers=headers)
    ).status_code == 200
    bad = await client.post(f"{base}/status", json={"status": "vanished"}, headers=headers)
    assert bad.status_code == 400
    admin_membership = await pool.fetchval(
        "SELECT id FROM memberships WHERE user_id = $1", world.admin.user_id
    )
    last = await client.post(
        f"/v1/orgs/{world.org}/members/{admin_membership}/role",
        json={"role": "member"},
        headers=headers,
    )
    assert last.status_code == 409
    assert last.json()["type"] == "urn:idsvc:problem:last_admin"
    no_csrf = await client.post(f"{base}/role", json={"role": "admin"})
    assert no_csrf.status_code == 403


async def test_an_admin_address_nobody_signed_in_with_is_not_an_admin_who_counts(
    client: AsyncTestClient[Litestar], world: World, pool: db.Pool
) -> None:
    """Issue 24: with an admin address nobody has claimed (a CSV row), the admin who has
    signed in is still the last one: they cannot remove, suspend or demote themselves."""
    headers = as_(client, world.admin) | {"content-type": "text/csv"}
    imported = await client.post(
        f"/v1/orgs/{world.org}/members:import",
        content="email,role\nmallory@evil.example,admin\n",
        headers=headers,
    )
    assert imported.status_code == 200, imported.text
    admin_membership = await pool.fetchval(
        "SELECT id FROM memberships WHERE user_id = $1", world.admin.user_id
    )
    before = await snapshot(pool)
    headers = as_(client, world.admin)
    base = f"/v1/orgs/{world.org}/members/{admin_membership}"
    for path, body in (
        ("status", {"status": "removed"}),
        ("status", {"status": "suspended"}),
        ("role", {"role": "member"}),
    ):
        refused = await client.post(f"{base}/{path}", json=body, headers=headers)
        assert refused.status_code == 409, (body, refused.text)
        assert refused.json()["type"] == "urn:idsvc:problem:last_admin"
        assert "Acme Analytics" in refused.json()["detail"]
    assert await snapshot(pool) == before


async def test_csv_import_reports_every_bad_row_and_applies_nothing(
    client: AsyncTestClient[Litestar], world: World, pool: db.Pool
) -> None:
    headers = as_(client, world.admin) | {"content-type": "text/csv"}
    before = await snapshot(pool)
    bad = (
        "email,role\nok@acme.example,member\nnot-an-address,member\n"
        "x@acme.example,owner\nok@acme.example,admin\n"
    )
    response = await client.post(
        f"/v1/orgs/{world.org}/members:import", content=bad, headers=headers
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [(3, "email"), (4, "role"), (5, "email")]
    assert "already on line 2" in errors[2]["reason"]
    assert await snapshot(pool) == before
    unknown = await client.post(
        f"/v1/orgs/{world.org}/members:import", content="mail\na@b.co\n", headers=headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["line"] == 1


async def test_csv_dry_run_apply_idempotent_reimport_and_removal(
    client: AsyncTestClient[Litestar], world: World, pool: db.Pool
) -> None:
    headers = as_(client, world.admin) | {"content-type": "text/csv"}
    path = f"/v1/orgs/{world.org}/members:import"
    csv = (
        "email,role,display_name\nAnn@Acme.example,member,Ann\n"
        "bo@acme.example,admin,\ncy@acme.example,,Cy\n"
    )
    preview = await client.post(path, params={"dry_run": "true"}, content=csv, headers=headers)
    assert preview.json() == {
        "dry_run": True,
        "added": ["ann@acme.example", "cy@acme.example"],
        "roles_changed": ["bo@acme.example"],
        "removed": [],
        "unchanged": 0,
    }
    assert await pool.fetchval("SELECT count(*) FROM memberships WHERE source = 'csv'") == 0
    applied = await client.post(path, content=csv, headers=headers)
    assert applied.json()["added"] == ["ann@acme.example", "cy@acme.example"]
    again = await client.post(path, content=csv, headers=headers)
    assert again.json() == {
        "dry_run": False,
        "added": [],
        "roles_changed": [],
        "removed": [],
        "unchanged": 3,
    }
    removal = await client.post(
        path,
        content="email,action\ncy@acme.example,remove\nzed@acme.example,remove\n",
        headers=headers,
    )
    assert removal.json()["removed"] == ["cy@acme.example"]
    assert removal.json()["unchanged"] == 1
    events = await pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'org.members.imported'"
    )
    assert events == 3
    wrong_type = await client.post(
        path, content=csv, headers=as_(client, world.admin) | {"content-type": "application/json"}
    )
    assert wrong_type.status_code == 400
