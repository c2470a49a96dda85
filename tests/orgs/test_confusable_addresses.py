"""Addresses and domains that only look like others, at every organisation input that
takes one: a CSV enrolment, invitations, claimed domains, an organisation's request.
Each is refused naming the field (the CSV's line and column), and changes nothing; and an
identity's address stored before the checks cannot accept another person's invitation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from idsvc.mail.senders import ConsoleMailer
from idsvc.orgs.invitations.errors import InvitationWrongAccount
from idsvc.orgs.invitations.service import accept_invitation, invite
from idsvc.settings import Settings
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org, create_user
from tests.support.look_alikes import IDS, LOOK_ALIKES
from tests.support.signin import Caller, call, session_caller
from tests.support.vetting import org_request, problem_code

Client = AsyncTestClient[Litestar]


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Litestar:
    return create_app(settings, clock=clock, mailer=ConsoleMailer())


async def _admin_of_org(pool: db.Pool, clock: FakeClock) -> tuple[Caller, uuid.UUID]:
    admin = await session_caller(pool, clock(), us_person=True)
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        await add_member(conn, clock(), org, admin.user_id, role="admin")
    return admin, org


_STATE = """
SELECT (SELECT count(*) FROM memberships) AS memberships,
       (SELECT count(*) FROM invitations) AS invitations,
       (SELECT count(*) FROM org_domains) AS org_domains,
       (SELECT count(*) FROM organisations) AS organisations,
       (SELECT count(*) FROM audit_events) AS audit_events
"""


async def _state(pool: db.Pool) -> dict[str, Any]:
    """What a refused request must leave as it was."""
    row = await pool.fetchrow(_STATE)
    assert row is not None
    return dict(row)


def _field_errors(response: Any) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = response.json().get("errors", [])
    return errors


@pytest.mark.parametrize(("name", "address", "named"), LOOK_ALIKES, ids=IDS)
async def test_csv_enrolment_refuses_the_row_naming_line_and_column(
    client: Client, pool: db.Pool, clock: FakeClock, name: str, address: str, named: str
) -> None:
    admin, org = await _admin_of_org(pool, clock)
    before = await _state(pool)
    body = f"email,role\nann@acme.example,member\n{address},member\n".encode()
    for dry_run in ("true", "false"):
        client.cookies.update(admin.cookies)
        response = await client.post(
            f"/v1/orgs/{org}/members:import?dry_run={dry_run}",
            content=body,
            headers={**admin.headers, "content-type": "text/csv"},
        )
        client.cookies.clear()
        # A file with errors answers 422 with every error by line (InvalidCsv), as for
        # any other bad row; the row names the column.
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert (error["line"], error["column"]) == (3, "email")
        assert named in error["reason"]
    assert await _state(pool) == before


@pytest.mark.parametrize(("name", "address", "named"), LOOK_ALIKES, ids=IDS)
async def test_invitations_refuse_the_address_naming_its_index(
    client: Client, pool: db.Pool, clock: FakeClock, name: str, address: str, named: str
) -> None:
    admin, org = await _admin_of_org(pool, clock)
    before = await _state(pool)
    response = await call(
        client,
        admin,
        "POST",
        f"/v1/orgs/{org}/invitations",
        {"emails": ["ann@acme.example", address]},
    )
    assert response.status_code == 400, response.text
    assert problem_code(response) == "invalid_email"
    [error] = _field_errors(response)
    assert error["field"] == "emails[1]"
    assert named in error["message"]
    assert response.json()["detail"].startswith("emails[1]: ")
    # Nothing for the good address either: the request is refused as a whole.
    assert await _state(pool) == before


@pytest.mark.parametrize(
    ("domain", "named"),
    [
        ("acme\u200b.example", "U+200B"),
        ("\u212aate.example", "U+212A"),
        ("\uff41cme.example", "U+FF41"),
        # UTS 46 maps none of these away, but a label mixing scripts is a homograph.
        ("\u0430cme.example", "Cyrillic and Latin"),
        ("xn--cme-5cd.example", "Cyrillic and Latin"),  # the same, typed as an A-label
    ],
)
async def test_claimed_domains_refuse_forms_that_are_not_plain(
    client: Client, pool: db.Pool, clock: FakeClock, domain: str, named: str
) -> None:
    admin, org = await _admin_of_org(pool, clock)
    before = await _state(pool)
    response = await call(client, admin, "POST", f"/v1/orgs/{org}/domains", {"domain": domain})
    assert response.status_code == 400, response.text
    assert problem_code(response) == "invalid_domain"
    [error] = _field_errors(response)
    assert error["field"] == "domain"
    assert named in error["message"]
    assert await _state(pool) == before


async def test_an_organisation_request_refuses_its_domains_and_contact_address(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    requester = await session_caller(pool, clock(), us_person=True)
    before = await _state(pool)
    for body, field in (
        (org_request(domains=["northwind.example", "north\u200bwind.example"]), "domains[1]"),
        (org_request(contact_email="compliance@northw\u0456nd.example"), "contact_email"),
        (org_request(contact_email="\u212aate@northwind.example"), "contact_email"),
    ):
        response = await call(client, requester, "POST", "/v1/orgs", body)
        assert response.status_code == 400, response.text
        [error] = _field_errors(response)
        assert error["field"] == field
    assert await _state(pool) == before


async def test_an_address_stored_before_the_checks_accepts_no_invitation(
    pool: db.Pool, clock: FakeClock
) -> None:
    """An identity whose provider verified a Kelvin-sign address before sign-in refused it
    still holds it. PostgreSQL's lower() made it kate@acme.example, so it could accept an
    invitation to kate (with a forwarded code); compared by key, it matches nothing."""
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        admin = await create_user(conn, clock(), email="admin@acme.example")
        await add_member(conn, clock(), org, admin, role="admin")
        _, code = await invite(
            conn,
            org_id=org,
            email="kate@acme.example",
            role="member",
            invited_by=admin,
            lifetime=3600,
            now=clock(),
        )
        impostor = await create_user(conn, clock(), email="\u212aate@acme.example")
    async with db.transaction(pool) as conn:
        with pytest.raises(InvitationWrongAccount):
            await accept_invitation(conn, code=code, user_id=impostor, now=clock())
    async with db.transaction(pool) as conn:
        kate = await create_user(conn, clock(), email="Kate@Acme.example")
        accepted = await accept_invitation(conn, code=code, user_id=kate, now=clock())
    assert accepted.email == "kate@acme.example"


async def test_members_enrolled_by_account_are_found_by_their_address_key(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    """Full case folding: an account known as STRASSE@ is the member an invitation to
    straße@ names, so it is reported as a member rather than invited twice."""
    admin, org = await _admin_of_org(pool, clock)
    async with db.transaction(pool) as conn:
        member = await create_user(conn, clock(), email="STRASSE@acme.example")
        await add_member(conn, clock(), org, member)
    response = await call(
        client, admin, "POST", f"/v1/orgs/{org}/invitations", {"emails": ["straße@acme.example"]}
    )
    assert response.status_code == 201, response.text
    assert [o["outcome"] for o in response.json()] == ["already_member"]
