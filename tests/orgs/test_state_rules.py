"""Every cell of the organisation-state table (docs/organisations.md), through every
channel that reaches it: the JSON API, the console, SCIM and invitation acceptance. A
refused call answers 403 with the state's code and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from idsvc.mail.senders import ConsoleMailer
from idsvc.orgs.claims import claim_memberships
from idsvc.orgs.invitations.service import invite
from idsvc.orgs.members.service import enrol_member
from idsvc.orgs.records import OrgStatus
from idsvc.orgs.state_rules import ORG_ACTIONS, OrgAction, allowed, ensure_org_may
from idsvc.scim.tokens import create_token
from tests.support.cli import run_idsvc
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org, create_user
from tests.support.settings import make_settings
from tests.support.signin import Caller, session_caller

STATES: tuple[OrgStatus, ...] = ("pending", "approved", "suspended", "rejected")
CODES = {"pending": "org_not_approved", "suspended": "org_suspended", "rejected": "org_rejected"}
Client = AsyncTestClient[Litestar]

# The table as docs/organisations.md states it; the code's table must be this one.
DOCUMENTED: dict[OrgAction, set[OrgStatus]] = {
    "read": {"pending", "approved", "suspended", "rejected"},
    "domains": {"pending", "approved"},
    "enroll": {"approved"},
    "revoke_access": {"pending", "approved", "suspended", "rejected"},
}


def test_the_code_has_the_documented_table() -> None:
    assert {action: set(states) for action, states in ORG_ACTIONS.items()} == DOCUMENTED
    doc = (Path(__file__).parents[2] / "docs" / "organisations.md").read_text()
    for action, states in DOCUMENTED.items():
        row = next(line for line in doc.splitlines() if line.startswith(f"| `{action}`"))
        cells = [c.strip() for c in row.strip("|").split("|")][2:6]
        assert cells == ["yes" if s in states else "no" for s in STATES], row


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", list(DOCUMENTED))
def test_each_cell_decides(state: OrgStatus, action: OrgAction) -> None:
    if state in DOCUMENTED[action]:
        ensure_org_may(state, action)
        assert allowed(state, action)
    else:
        with pytest.raises(Exception) as refused:
            ensure_org_may(state, action)
        assert getattr(refused.value, "status", None) == 403
        assert getattr(refused.value, "code", None) == CODES[state]


class World(msgspec.Struct, kw_only=True):
    org: uuid.UUID
    admin: Caller
    member_id: uuid.UUID
    invitation_id: uuid.UUID
    invitation_code: str
    scim_token_id: uuid.UUID
    scim_token: str


@pytest.fixture
async def client(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Client]:
    settings = make_settings(database_url, tmp_path, cookie_secure=False, max_request_body=16384)
    app = create_app(settings, clock=clock, mailer=ConsoleMailer())
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


async def make_world(pool: db.Pool, clock: FakeClock, state: OrgStatus) -> World:
    """An organisation set up while approved (a member, an open invitation, a SCIM token,
    a verified domain), then moved to ``state``."""
    admin = await session_caller(pool, clock(), email="admin@acme.example")
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        await add_member(conn, clock(), org, admin.user_id, role="admin")
        member = await add_member(conn, clock(), org, await create_user(conn, clock()))
        invitation_id, code = await invite(
            conn,
            org_id=org,
            email="invitee@acme.example",
            role="member",
            invited_by=admin.user_id,
            lifetime=86_400,
            now=clock(),
        )
        token_id, token = await create_token(
            conn, org_id=org, label="Okta", created_by=admin.user_id, now=clock()
        )
        # A verified domain, so that auto-join can be switched on where it is allowed.
        await conn.execute(
            "INSERT INTO org_domains (org_id, domain, challenge, created_at, verified_at)"
            " VALUES ($1, 'acme.example', $2, $3, $3)",
            org,
            "c" * 32,
            clock(),
        )
        await conn.execute("UPDATE organisations SET status = $2 WHERE id = $1", org, state)
    return World(
        org=org,
        admin=admin,
        member_id=member.id,
        invitation_id=invitation_id,
        invitation_code=code,
        scim_token_id=token_id,
        scim_token=token,
    )


async def footprint(pool: db.Pool, org: uuid.UUID) -> dict[str, object]:
    """What an enrolment or a domain change would alter."""
    return {
        "memberships": await pool.fetch(
            "SELECT id, status, role FROM memberships WHERE org_id = $1 ORDER BY id", org
        ),
        "scim_tokens": await pool.fetch(
            "SELECT id, revoked_at FROM scim_tokens WHERE org_id = $1 ORDER BY id", org
        ),
        "invitations": await pool.fetch(
            "SELECT membership_id, revoked_at FROM invitations WHERE org_id = $1", org
        ),
        "domains": await pool.fetch("SELECT domain FROM org_domains WHERE org_id = $1", org),
        "auto_join": await pool.fetchval("SELECT auto_join FROM organisations WHERE id = $1", org),
    }


def api_calls(w: World, state: str) -> list[tuple[OrgAction, str, str, dict[str, object], int]]:
    org = f"/v1/orgs/{w.org}"
    csv = "email\nimported@acme.example\n"
    return [
        ("read", "GET", org, {}, 200),
        ("read", "GET", f"{org}/members", {}, 200),
        ("read", "GET", f"{org}/scim-tokens", {}, 200),
        ("domains", "POST", f"{org}/domains", {"json": {"domain": f"{state}.acme.example"}}, 201),
        ("enroll", "POST", f"{org}/scim-tokens", {"json": {"label": "Entra"}}, 201),
        ("enroll", "POST", f"{org}/invitations", {"json": {"emails": ["new@acme.example"]}}, 201),
        (
            "enroll",
            "POST",
            f"{org}/members:import",
            {"content": csv, "headers": {"content-type": "text/csv"}},
            200,
        ),
        ("domains", "PUT", f"{org}/auto-join", {"json": {"mode": "pending"}}, 200),
        (
            "enroll",
            "POST",
            f"{org}/members/{w.member_id}/status",
            {"json": {"status": "suspended"}},
            200,
        ),
        ("revoke_access", "DELETE", f"{org}/invitations/{w.invitation_id}", {}, 204),
        ("revoke_access", "DELETE", f"{org}/scim-tokens/{w.scim_token_id}", {}, 204),
    ]


def assert_refused(response: object, state: OrgStatus, *, scim: bool = False) -> None:
    assert response.status_code == 403, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    if scim:
        assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert body["status"] == "403"
    else:
        assert body["type"] == f"urn:idsvc:problem:{CODES[state]}"


@pytest.mark.parametrize("state", STATES)
async def test_the_api_follows_the_table(
    client: Client, pool: db.Pool, clock: FakeClock, state: OrgStatus
) -> None:
    w = await make_world(pool, clock, state)
    client.cookies.update(w.admin.cookies)
    for action, method, path, extra, ok in api_calls(w, state):
        headers = {**w.admin.headers, **extra.pop("headers", {})}  # type: ignore[dict-item]
        before = await footprint(pool, w.org)
        response = await client.request(method, path, headers=headers, **extra)  # type: ignore[arg-type]
        if allowed(state, action):
            assert response.status_code == ok, (action, path, response.text)
        else:
            assert_refused(response, state)
            assert await footprint(pool, w.org) == before, (action, path)


@pytest.mark.parametrize("state", STATES)
async def test_scim_tokens_read_in_every_state_and_write_only_when_approved(
    client: Client, pool: db.Pool, clock: FakeClock, state: OrgStatus
) -> None:
    w = await make_world(pool, clock, state)
    bearer = {"authorization": f"Bearer {w.scim_token}"}
    listed = await client.get("/scim/v2/Users", headers=bearer)
    assert listed.status_code == 200, listed.text
    before = await footprint(pool, w.org)
    created = await client.post(
        "/scim/v2/Users",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "scim@acme.example",
            "active": True,
        },
        headers=bearer,
    )
    if allowed(state, "enroll"):
        assert created.status_code == 201, created.text
        user = created.json()["id"]
        deleted = await client.delete(f"/scim/v2/Users/{user}", headers=bearer)
        assert deleted.status_code == 204
        return
    assert_refused(created, state, scim=True)
    assert created.headers["content-type"].startswith("application/scim+json")
    member = await client.delete(f"/scim/v2/Users/{w.member_id}", headers=bearer)
    assert_refused(member, state, scim=True)
    assert await footprint(pool, w.org) == before


@pytest.mark.parametrize("state", STATES)
async def test_the_console_follows_the_table(
    client: Client, pool: db.Pool, clock: FakeClock, state: OrgStatus
) -> None:
    w = await make_world(pool, clock, state)
    client.cookies.update(w.admin.cookies)
    csrf = w.admin.headers["x-csrf-token"]
    page = await client.get(f"/console/my-orgs/{w.org}")
    assert page.status_code == 200
    base = f"/console/my-orgs/{w.org}"
    forms: list[tuple[OrgAction, str, dict[str, str], int]] = [
        ("domains", f"{base}/domains", {"domain": f"{state}.acme.example"}, 303),
        ("enroll", f"{base}/scim-tokens", {"label": "Entra"}, 200),
        ("enroll", f"{base}/invitations", {"emails": "console@acme.example"}, 200),
        ("domains", f"{base}/auto-join", {"mode": "pending"}, 303),
        ("revoke_access", f"{base}/scim-tokens/{w.scim_token_id}/revoke", {}, 303),
    ]
    for action, path, data, ok in forms:
        before = await footprint(pool, w.org)
        response = await client.post(
            path, data={"csrf_token": csrf, **data}, follow_redirects=False
        )
        if allowed(state, action):
            assert response.status_code == ok, (path, response.text)
        else:
            assert response.status_code == 403, (path, response.status_code)
            assert await footprint(pool, w.org) == before, path


@pytest.mark.parametrize("state", STATES)
async def test_an_invitation_is_accepted_only_while_the_organisation_is_approved(
    client: Client, pool: db.Pool, clock: FakeClock, state: OrgStatus
) -> None:
    w = await make_world(pool, clock, state)
    invitee = await session_caller(pool, clock(), email="invitee@acme.example")
    client.cookies.update(invitee.cookies)
    accepted = await client.post(
        "/v1/invitations/accept", json={"code": w.invitation_code}, headers=invitee.headers
    )
    joined = await pool.fetchval(
        "SELECT status FROM memberships WHERE org_id = $1 AND user_id = $2", w.org, invitee.user_id
    )
    if allowed(state, "enroll"):
        assert accepted.status_code == 200, accepted.text
        assert joined == "active"
    else:
        assert_refused(accepted, state)
        assert joined is None


@pytest.mark.parametrize("state", STATES)
async def test_signing_in_claims_memberships_of_approved_organisations_only(
    pool: db.Pool, clock: FakeClock, state: OrgStatus
) -> None:
    """Claiming an e-mail enrolment at sign-in completes it: the same table applies."""
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock(), status=state)
        await enrol_member(
            conn,
            org_id=org,
            email="staff@acme.example",
            user_id=None,
            role="member",
            status="active",
            source="csv",
            actor="test",
            now=clock(),
        )
        user = await create_user(conn, clock(), email="staff@acme.example")
        claimed = await claim_memberships(
            conn, user_id=user, email="staff@acme.example", now=clock()
        )
    assert claimed == (1 if allowed(state, "enroll") else 0)


@pytest.mark.parametrize("state", STATES)
async def test_the_cli_import_follows_the_table(
    pool: db.Pool, database_url: str, clock: FakeClock, tmp_path: Path, state: OrgStatus
) -> None:
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock(), status=state)
    staff = tmp_path / "staff.csv"
    staff.write_text("email,role\np1@acme.example,member\n")
    code, _, err = await run_idsvc(
        "orgs", "import", "--org", str(org), str(staff), database_url=database_url
    )
    members = await pool.fetchval("SELECT count(*) FROM memberships WHERE org_id = $1", org)
    if allowed(state, "enroll"):
        assert code == 0, err
        assert members == 1
    else:
        assert code == 1
        assert "refused" in err
        assert members == 0
