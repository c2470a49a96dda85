"""Four eyes through the console's own forms: each decision's form proposes for the first
operator (the page then says so), refuses the same operator's second submission on the page
with the refusal audited and kept, and decides for a second operator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from tests.support.clock import FakeClock
from tests.support.factories import create_org
from tests.support.four_eyes_subjects import (
    grant_programs,
    override_person_hit,
    refusals,
    reinstate_attestation,
    two_operators,
)
from tests.support.signin import Caller

Client = AsyncTestClient[Litestar]


@dataclass(frozen=True)
class Form:
    action: str
    fields: dict[str, str]
    done: Callable[[], Awaitable[bool]]


async def _approve_org_form(client: Client, pool: db.Pool, clock: FakeClock) -> Form:
    async with db.transaction(pool) as conn:
        org_id = await create_org(conn, clock(), status="pending")

    async def done() -> bool:
        status = await pool.fetchval("SELECT status FROM organisations WHERE id = $1", org_id)
        return bool(status == "approved")

    return Form(
        f"/console/orgs/{org_id}/status", {"status": "approved", "reason": "EIN checked"}, done
    )


async def _programs_form(client: Client, pool: db.Pool, clock: FakeClock) -> Form:
    decision = await grant_programs(client, pool, clock)
    org_id = decision.url.split("/")[4]
    return Form(
        f"/console/orgs/{org_id}/programs", {"programs": "frontier-research"}, decision.done
    )


async def _override_form(client: Client, pool: db.Pool, clock: FakeClock) -> Form:
    decision = await override_person_hit(client, pool, clock)
    user_id, hit = decision.url.split("/")[4], decision.url.split("/")[6]
    justification = "Different person: born 1990, the listed one in 1961."
    return Form(
        f"/console/users/{user_id}/screening-hits/{hit}/override",
        {"justification": justification},
        decision.done,
    )


async def _reinstate_form(client: Client, pool: db.Pool, clock: FakeClock) -> Form:
    decision = await reinstate_attestation(client, pool, clock)
    attestation = decision.url.split("/")[4]
    user_id = await pool.fetchval("SELECT user_id FROM attestations WHERE id = $1", attestation)
    return Form(
        f"/console/users/{user_id}/attestations/{attestation}/reinstate",
        {"reason": "revoked in error: the wrong person's record"},
        decision.done,
    )


FORMS = {
    "org.approve": _approve_org_form,
    "org.programs.grant": _programs_form,
    "person_hit.override": _override_form,
    "attestation.reinstate": _reinstate_form,
}


async def _submit(client: Client, caller: Caller, form: Form) -> tuple[int, str, str]:
    client.cookies.clear()
    client.cookies.update(caller.cookies)
    data = {**form.fields, "csrf_token": caller.headers["x-csrf-token"]}
    response = await client.post(form.action, data=data, follow_redirects=False)
    return response.status_code, response.headers.get("location", ""), response.text


@pytest.fixture
async def listed(pool: db.Pool, clock: FakeClock) -> None:
    from tests.support.screening import import_demo_list

    async with pool.acquire() as conn:
        await import_demo_list(conn, clock())


@pytest.mark.parametrize("kind", sorted(FORMS))
async def test_a_console_form_proposes_refuses_its_proposer_and_decides_for_another(
    kind: str, client: Client, pool: db.Pool, clock: FakeClock, listed: None
) -> None:
    form = await FORMS[kind](client, pool, clock)
    first, second = await two_operators(pool, clock)

    status, location, _ = await _submit(client, first, form)
    assert status == 303
    assert location.endswith("?done=proposed")
    assert not await form.done()
    client.cookies.update(first.cookies)
    page = await client.get(location)
    assert "Proposed: it takes effect when another operator approves it" in page.text

    status, _, text = await _submit(client, first, form)
    assert status == 409
    assert "another operator must approve it" in text
    assert not await form.done()
    assert await refusals(pool) == ["own_proposal"]  # kept, although the page answered

    status, location, _ = await _submit(client, second, form)
    assert status == 303, location
    assert not location.endswith("?done=proposed")
    assert await form.done()
