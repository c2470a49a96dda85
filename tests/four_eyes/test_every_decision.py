"""Four eyes, one mechanism, everywhere it matters (issue 25, part 2): every compliance
decision is refused for one operator and works for two, through the API; each refusal is
audited and committed with it. Also: a proposal binds its terms, people with a stake take
no part, a proposal lapses, the queue approves with the proposed terms, and a deployment
that waives four eyes says so in its trail."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.four_eyes.service import propose_or_approve
from idsvc.settings import ComplianceSettings
from tests.support.clock import FakeClock
from tests.support.factories import add_member, attest, create_user
from tests.support.four_eyes import TWO_OPERATORS
from tests.support.four_eyes_subjects import (
    SETUPS,
    grant_programs,
    override_person_hit,
    refusals,
    two_operators,
)
from tests.support.screening import import_demo_list
from tests.support.signin import call, session_caller
from tests.support.vetting import org_request, problem_code

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def listed(pool: db.Pool, clock: FakeClock) -> None:
    # Approvals and grants need a current restricted-party list.
    async with pool.acquire() as conn:
        await import_demo_list(conn, clock())


@pytest.mark.parametrize("kind", sorted(SETUPS))
async def test_one_operator_proposes_only_and_a_second_decides(
    kind: str, client: Client, pool: db.Pool, clock: FakeClock, listed: None
) -> None:
    decision = await SETUPS[kind](client, pool, clock)
    first, second = await two_operators(pool, clock)

    proposed = await call(client, first, decision.method, decision.url, decision.body)
    assert proposed.status_code == 202, proposed.text
    assert proposed.json()["status"] == "pending_second_operator"
    assert not await decision.done()
    queue = (await call(client, first, "GET", "/v1/operator/decisions")).json()["decisions"]
    assert [(d["kind"], d["proposed_by"]) for d in queue] == [(kind, f"user:{first.user_id}")]

    own = await call(client, first, decision.method, decision.url, decision.body)
    assert own.status_code == 409
    assert problem_code(own) == "own_proposal"
    assert not await decision.done()
    assert await refusals(pool) == ["own_proposal"]  # committed with the refusal

    decided = await call(client, second, decision.method, decision.url, decision.body)
    assert decided.status_code == 200, decided.text
    assert await decision.done()
    assert (await call(client, first, "GET", "/v1/operator/decisions")).json()["decisions"] == []
    approved = await pool.fetchrow(
        "SELECT data FROM audit_events WHERE action = 'four_eyes.approved'"
    )
    assert approved["data"]["proposed_by"] == f"user:{first.user_id}"


@pytest.mark.parametrize("kind", sorted(SETUPS))
async def test_the_queue_approves_with_the_proposed_terms(
    kind: str, client: Client, pool: db.Pool, clock: FakeClock, listed: None
) -> None:
    decision = await SETUPS[kind](client, pool, clock)
    first, second = await two_operators(pool, clock)
    assert (
        await call(client, first, decision.method, decision.url, decision.body)
    ).status_code == 202
    pending = (await call(client, second, "GET", "/v1/operator/decisions")).json()["decisions"]
    approve = f"/v1/operator/decisions/{pending[0]['id']}/approve"
    reason = {"reason": "checked the file, case 2026-0042"}
    own = await call(client, first, "POST", approve, reason)
    assert problem_code(own) == "own_proposal"
    assert not await decision.done()
    approved = await call(client, second, "POST", approve, reason)
    assert approved.status_code == 200, approved.text
    assert approved.json()["outcome"] == "decided"
    assert await decision.done()
    gone = await call(client, second, "POST", approve, reason)
    assert gone.status_code == 404


async def test_an_approver_approves_what_was_proposed_or_nothing(
    client: Client, pool: db.Pool, clock: FakeClock, listed: None
) -> None:
    decision = await grant_programs(client, pool, clock)
    first, second = await two_operators(pool, clock)
    assert (await call(client, first, "POST", decision.url, decision.body)).status_code == 202
    more = {"programs": ["frontier-research", "defence"], "reason": "and defence too"}
    differs = await call(client, second, "POST", decision.url, more)
    assert differs.status_code == 409
    assert problem_code(differs) == "proposal_differs"
    assert "frontier-research" in differs.json()["detail"]
    assert await refusals(pool) == ["proposal_differs"]
    # The proposer may replace their own proposal; the second operator then approves that.
    assert (await call(client, first, "POST", decision.url, more)).status_code == 202
    assert (await call(client, second, "POST", decision.url, more)).status_code == 200
    org_id = decision.url.split("/")[4]
    programs = await pool.fetchval("SELECT programs FROM organisations WHERE id = $1", org_id)
    assert sorted(programs) == ["defence", "frontier-research"]
    states = await pool.fetch("SELECT state FROM pending_decisions ORDER BY proposed_at, state")
    assert sorted(r["state"] for r in states) == ["approved", "replaced"]
    # Taking programs away is the safe direction: one operator.
    fewer = {"programs": ["defence"], "reason": "program closed"}
    assert (await call(client, first, "POST", decision.url, fewer)).status_code == 200


async def test_the_requester_and_the_admins_take_no_part(
    client: Client, pool: db.Pool, clock: FakeClock, listed: None
) -> None:
    # An operator who requested the organisation (and so administers it).
    insider = await session_caller(pool, clock(), us_person=True, operator=True)
    created = await call(client, insider, "POST", "/v1/orgs", org_request(domains=[]))
    org_id = created.json()["id"]
    first, second = await two_operators(pool, clock)
    approve = {"status": "approved", "reason": "EIN and register checked"}
    url = f"/v1/operator/orgs/{org_id}/status"
    refused = await call(client, insider, "POST", url, approve)
    assert refused.status_code == 403
    assert problem_code(refused) == "conflict_of_interest"
    assert await refusals(pool) == ["conflict_of_interest"]
    assert (await call(client, first, "POST", url, approve)).status_code == 202
    assert problem_code(await call(client, insider, "POST", url, approve)) == (
        "conflict_of_interest"
    )
    # An admin added later is conflicted too, also for program grants.
    colleague = await session_caller(pool, clock(), operator=True)
    async with db.transaction(pool) as conn:
        await add_member(conn, clock(), uuid.UUID(org_id), colleague.user_id, role="admin")
    assert problem_code(await call(client, colleague, "POST", url, approve)) == (
        "conflict_of_interest"
    )
    assert (await call(client, second, "POST", url, approve)).status_code == 200
    grant = {"programs": ["frontier-research"], "reason": "eligible"}
    programs = f"/v1/operator/orgs/{org_id}/programs"
    assert problem_code(await call(client, colleague, "POST", programs, grant)) == (
        "conflict_of_interest"
    )


async def test_a_proposal_lapses_and_approving_it_late_proposes_anew(
    client: Client, pool: db.Pool, clock: FakeClock, listed: None
) -> None:
    decision = await override_person_hit(client, pool, clock)
    first, second = await two_operators(pool, clock)
    assert (await call(client, first, "POST", decision.url, decision.body)).status_code == 202
    clock.advance(7 * 86_400 + 1)  # [compliance] proposal_validity: a week
    # Signed in again (a session lasts a day).
    first = await session_caller(pool, clock(), user_id=first.user_id)
    second = await session_caller(pool, clock(), user_id=second.user_id)
    assert (await call(client, second, "GET", "/v1/operator/decisions")).json()["decisions"] == []
    late = await call(client, second, "POST", decision.url, decision.body)
    assert late.status_code == 202  # a new proposal, by the second operator
    assert not await decision.done()
    assert (await call(client, first, "POST", decision.url, decision.body)).status_code == 200
    assert await decision.done()
    states = await pool.fetch("SELECT state FROM pending_decisions ORDER BY proposed_at")
    assert [r["state"] for r in states] == ["expired", "approved"]


async def test_the_database_refuses_an_own_approval_too(pool: db.Pool, clock: FakeClock) -> None:
    async with db.transaction(pool) as conn:
        await conn.execute(
            "INSERT INTO pending_decisions (id, kind, target, proposed_by, proposed_at, "
            "expires_at) VALUES ($1, 'org.approve', 'org:x', 'user:a', $2, $2)",
            uuid.uuid4(), clock(),
        )  # fmt: skip
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute("UPDATE pending_decisions SET decided_by = proposed_by")


@pytest.mark.parametrize("compliance", [ComplianceSettings(four_eyes=False)])
async def test_a_deployment_that_waives_four_eyes_decides_at_once_and_says_so(
    client: Client, pool: db.Pool, clock: FakeClock, listed: None
) -> None:
    decision = await override_person_hit(client, pool, clock)
    first, _ = await two_operators(pool, clock)
    assert (await call(client, first, "POST", decision.url, decision.body)).status_code == 200
    assert await decision.done()
    waived = await pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'four_eyes.waived'"
    )
    assert waived == 1
    assert await pool.fetchval("SELECT count(*) FROM pending_decisions") == 0


async def test_a_determination_is_confirmed_from_the_queue(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    async with db.transaction(pool) as conn:
        person = await create_user(conn, clock())
        await attest(conn, clock(), person, nationalities=("DE", "FR"), basis=None)
    first, second = await two_operators(pool, clock)
    body = {"country": "FR", "justification": "naturalised in France last, certificate seen"}
    url = f"/v1/operator/users/{person}/most-recent-country"
    proposed = await call(client, first, "POST", url, body)
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["status"] == "pending_confirmation"
    decision = proposed.json()["decision"]
    queue = (await call(client, second, "GET", "/v1/operator/decisions")).json()["decisions"]
    assert queue[0]["terms"] == {"country": "FR"}  # opened for operators, sealed at rest
    stored = await pool.fetchval("SELECT terms::text FROM pending_decisions")
    assert "FR" not in stored
    approve = f"/v1/operator/decisions/{decision}/approve"
    reason = {"reason": "certificate and passport checked"}
    assert problem_code(await call(client, first, "POST", approve, reason)) == "own_proposal"
    assert (await call(client, second, "POST", approve, reason)).status_code == 200
    confirmed = await pool.fetchval(
        "SELECT confirmed_by FROM attestations WHERE kind = 'most_recent_country'"
    )
    assert confirmed == f"user:{second.user_id}"


async def test_two_first_calls_at_once_make_one_proposal_and_its_approval(
    pool: db.Pool, clock: FakeClock
) -> None:
    # The country groups' sign-off locks no row of its own before proposing.
    async def call_as(actor: str) -> object:
        async with db.transaction(pool) as conn:
            outcome = await propose_or_approve(
                conn, kind="country_groups.sign_off", target="country-groups:abc",
                actor=actor, now=clock(), rule=TWO_OPERATORS, terms={"sha256": "abc"},
            )  # fmt: skip
            await asyncio.sleep(0.05)  # hold the transaction open while the other waits
            return outcome

    outcomes = await asyncio.gather(call_as("cli:a"), call_as("cli:b"))
    assert sorted(type(o).__name__ for o in outcomes) == ["Approved", "Proposed"]
