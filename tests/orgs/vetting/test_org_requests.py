"""Requesting an organisation and reading one's own, over HTTP through the real app."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from tests.support.clock import FakeClock
from tests.support.signin import call, session_caller
from tests.support.vetting import OPERATOR_SUBJECT, audit_actions, org_request, problem_code

Client = AsyncTestClient[Litestar]


async def test_a_verified_user_requests_an_organisation_and_becomes_its_admin(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    alice = await session_caller(pool, clock(), us_person=True)
    created = await call(client, alice, "POST", "/v1/orgs", org_request())
    assert created.status_code == 201, created.text
    org = created.json()
    assert org["status"] == "pending"
    assert org["country"] == "US"  # alpha-3 in, alpha-2 stored
    assert org["legal_name"] == "Northwind Analytics, Inc."
    assert org["programs_requested"] == ["critical-infrastructure"]
    assert org["programs"] == []
    assert "screening_hits" not in org  # applicants never see screening
    [domain] = org["domains"]
    assert domain["domain"] == "northwind.example"
    assert domain["record"] == "_idsvc-challenge.northwind.example"
    assert len(domain["challenge"]) >= 40
    assert domain["verified"] is False
    member = await pool.fetchrow(
        "SELECT role, status, source FROM memberships WHERE org_id = $1 AND user_id = $2",
        uuid.UUID(org["id"]),
        alice.user_id,
    )
    assert dict(member) == {"role": "admin", "status": "active", "source": "request"}
    actions = await audit_actions(pool, f"org:{org['id']}")
    assert actions[:3] == ["org.requested", "org.member.enrolled", "org.domain.claimed"]
    assert "org.screened" not in actions  # no list imported yet: nothing to screen against
    data = await pool.fetch("SELECT data::text AS d FROM audit_events")
    assert not any("compliance@northwind.example" in r["d"] for r in data)

    mine = await call(client, alice, "GET", "/v1/orgs")
    assert [o["id"] for o in mine.json()["organisations"]] == [org["id"]]
    assert mine.json()["organisations"][0]["role"] == "admin"
    read = await call(client, alice, "GET", f"/v1/orgs/{org['id']}")
    assert read.status_code == 200
    assert read.json()["domains"][0]["challenge"] == domain["challenge"]


async def test_an_unverified_user_cannot_request_one(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    bob = await session_caller(pool, clock())
    refused = await call(client, bob, "POST", "/v1/orgs", org_request())
    assert refused.status_code == 403
    assert problem_code(refused) == "not_verified"
    assert await pool.fetchval("SELECT count(*) FROM organisations") == 0


async def test_an_expired_or_revoked_attestation_does_not_count(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    carol = await session_caller(pool, clock(), us_person=True)
    clock.advance(366 * 86_400)  # the attestation expired after a year
    # The session expired too: sign in again, still unverified.
    again = await session_caller(pool, clock(), user_id=carol.user_id)
    refused = await call(client, again, "POST", "/v1/orgs", org_request())
    assert refused.status_code == 403
    assert problem_code(refused) == "not_verified"


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"country": "ZZZ"}, 400, "invalid_country"),
        ({"country": "XXA"}, 400, "invalid_country"),  # stateless is no country
        ({"domains": ["gmail.com"]}, 400, "public_email_domain"),
        ({"domains": ["mail.Yahoo.com"]}, 400, "public_email_domain"),
        ({"domains": ["not a domain"]}, 400, "invalid_domain"),
        ({"domains": ["10.0.0.1"]}, 400, "invalid_domain"),
        ({"legal_name": "x" * 301}, 400, "invalid_request"),
        ({"legal_name": "   "}, 400, "invalid_request"),
        ({"legal_name": "Evil\nCorp"}, 400, "invalid_request"),
        ({"contact_email": "nobody"}, 400, "invalid_request"),
        ({"programs_requested": ["Not A Program!"]}, 400, "invalid_request"),
        ({"registration_ids": [{"scheme": "ein"}]}, 400, "invalid_request"),
        ({"domains": [f"d{i}.example" for i in range(21)]}, 400, "invalid_request"),
        ({"status": "approved"}, 400, "invalid_request"),  # unknown field: no self-approval
    ],
)
async def test_bad_input_is_a_4xx_problem_and_changes_nothing(
    client: Client,
    pool: db.Pool,
    clock: FakeClock,
    overrides: dict[str, object],
    status: int,
    code: str,
) -> None:
    alice = await session_caller(pool, clock(), us_person=True)
    before = await pool.fetchval("SELECT count(*) FROM audit_events")
    refused = await call(client, alice, "POST", "/v1/orgs", org_request(**overrides))
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem_code(refused) == code
    assert await pool.fetchval("SELECT count(*) FROM organisations") == 0
    assert await pool.fetchval("SELECT count(*) FROM org_domains") == 0
    assert await pool.fetchval("SELECT count(*) FROM audit_events") == before


async def test_state_changes_need_the_csrf_header(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    alice = await session_caller(pool, clock(), us_person=True)
    client.cookies.update(alice.cookies)
    refused = await client.post("/v1/orgs", json=org_request())
    assert refused.status_code == 403
    assert problem_code(refused) == "csrf_failed"
    assert await pool.fetchval("SELECT count(*) FROM organisations") == 0


async def test_an_organisation_is_readable_by_its_admins_and_operators_only(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    alice = await session_caller(pool, clock(), us_person=True)
    mallory = await session_caller(pool, clock(), us_person=True)
    ours = (await call(client, alice, "POST", "/v1/orgs", org_request())).json()
    theirs = (
        await call(
            client, mallory, "POST", "/v1/orgs", org_request(legal_name="Other Co", domains=[])
        )
    ).json()
    # Another organisation's admin gets the answer a missing organisation gets.
    assert (await call(client, mallory, "GET", f"/v1/orgs/{ours['id']}")).status_code == 404
    assert (await call(client, alice, "GET", f"/v1/orgs/{theirs['id']}")).status_code == 404
    missing = await call(client, alice, "GET", f"/v1/orgs/{uuid.uuid4()}")
    assert missing.status_code == 404
    # A plain member is known to be one, but may not administer.
    async with db.transaction(pool) as conn:
        member = await session_caller(pool, clock())
        await conn.execute(
            "INSERT INTO memberships (id, org_id, user_id, role, status, source, created_at,"
            " updated_at) VALUES ($1, $2, $3, 'member', 'active', 'operator', $4, $4)",
            uuid.uuid4(),
            uuid.UUID(ours["id"]),
            member.user_id,
            clock(),
        )
    assert (await call(client, member, "GET", f"/v1/orgs/{ours['id']}")).status_code == 403
    mine = (await call(client, member, "GET", "/v1/orgs")).json()["organisations"]
    assert [(o["id"], o["role"]) for o in mine] == [(ours["id"], "member")]
    operator = await session_caller(pool, clock(), subject=OPERATOR_SUBJECT)
    seen = await call(client, operator, "GET", f"/v1/orgs/{ours['id']}")
    assert seen.status_code == 200
    assert seen.json()["screening_hits"] == []


async def test_signed_out_callers_get_401(client: Client) -> None:
    assert (await client.get("/v1/orgs")).status_code == 401
    assert (await client.post("/v1/orgs", json=org_request())).status_code == 401


async def test_a_revoked_attestation_does_not_count(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    dave = await session_caller(pool, clock(), us_person=True)
    await pool.execute(
        "UPDATE attestations SET revoked_at = $2, revoked_by = 'op', revoked_reason = '\"fraud\"'"
        " WHERE user_id = $1",
        dave.user_id,
        clock(),
    )
    refused = await call(client, dave, "POST", "/v1/orgs", org_request())
    assert refused.status_code == 403
    assert problem_code(refused) == "not_verified"
