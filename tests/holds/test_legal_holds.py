"""Legal holds (issue 25, part 3; 15 CFR 762.6(b)): a held person is erased neither by hand
nor by the retention job; open screening hits and pending determinations hold by
themselves; a hold on an organisation holds its members; lifting takes two operators, and
the proposer's own approval is refused and audited."""

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
from idsvc.attestations.service import record_most_recent_country
from idsvc.attestations.store import record_attestations
from idsvc.erasure.retention import erase_past_retention
from idsvc.erasure.service import UnderLegalHold, erase_person
from idsvc.settings import ComplianceSettings
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org, create_user
from tests.support.four_eyes import TWO_OPERATORS
from tests.support.screening import import_demo_list, screen
from tests.support.settings import make_settings
from tests.support.signin import Caller, session_caller

RETENTION = timedelta(days=5 * 366)
HOLD = {"case_reference": "DOJ-2026-0412", "reason": "Subpoena received for the access logs"}


@pytest.fixture
async def client(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    # The service's default: four eyes on.
    settings = make_settings(
        database_url, tmp_path, compliance=ComplianceSettings(), cookie_secure=False
    )
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as test_client:
        yield test_client


async def _erase(pool: db.Pool, clock: FakeClock, person: uuid.UUID) -> None:
    async with db.transaction(pool) as conn:
        await erase_person(conn, user_id=person, reason="request of the person",
                           actor="test", now=clock())  # fmt: skip


async def _as(client: AsyncTestClient[Litestar], caller: Caller) -> AsyncTestClient[Litestar]:
    client.cookies.clear()
    client.cookies.update(caller.cookies)
    return client


async def test_a_held_person_is_not_erased_until_two_operators_lift_the_hold(
    client: AsyncTestClient[Litestar], pool: db.Pool, clock: FakeClock
) -> None:
    first = await session_caller(pool, clock(), email="ops1@provider.example", operator=True)
    second = await session_caller(pool, clock(), email="ops2@provider.example", operator=True)
    person = await session_caller(pool, clock(), email="held@example.com")
    nobody = await session_caller(pool, clock(), email="nobody@example.com")
    url = f"/v1/operator/users/{person.user_id}/legal-hold"

    # Only operators; a case reference and a reason; a person who exists.
    await _as(client, nobody)
    assert (await client.post(url, json=HOLD, headers=nobody.headers)).status_code == 403
    await _as(client, first)
    bad = await client.post(url, json={"case_reference": "x"}, headers=first.headers)
    assert bad.status_code == 400
    unknown = f"/v1/operator/users/{uuid.uuid4()}/legal-hold"
    assert (await client.post(unknown, json=HOLD, headers=first.headers)).status_code == 404
    placed = await client.post(url, json=HOLD, headers=first.headers)
    assert placed.status_code == 201, placed.text
    hold = placed.json()["hold"]
    listed = await client.get(f"/v1/operator/users/{person.user_id}/legal-holds")
    assert listed.json()["holds"][0]["reason"] == HOLD["reason"]
    # The reason may name people: sealed in the table and the trail, opened for operators.
    stored = await pool.fetchval("SELECT reason::text FROM legal_holds")
    assert HOLD["reason"] not in stored

    # Neither by hand (the service, the operator console) nor by the retention job.
    with pytest.raises(UnderLegalHold, match="DOJ-2026-0412"):
        await _erase(pool, clock, person.user_id)
    form = {
        "reason": "request of the person",
        "confirm_id": str(person.user_id),
        "despite_retention": "on",
        "csrf_token": first.headers["x-csrf-token"],
    }
    refused = await client.post(f"/console/users/{person.user_id}/erase", data=form)
    assert refused.status_code == 400
    assert "legal hold" in refused.text
    clock.advance(6 * 366 * 86_400)
    async with db.transaction(pool) as conn:
        # The operators signed in since; the held person did not.
        await conn.execute(
            "UPDATE identities SET last_login_at = $2 WHERE user_id = ANY($1::uuid[])",
            [first.user_id, second.user_id], clock(),
        )  # fmt: skip
        erased = await erase_past_retention(conn, now=clock(), period=RETENTION)
    assert person.user_id not in erased
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", person.user_id) == (
        "active"
    )

    # Lifting: proposed by one operator, refused as her own approval, lifted by another.
    again = await session_caller(
        pool, clock(), email="ops1@provider.example", user_id=first.user_id
    )
    await _as(client, again)
    lift = f"/v1/operator/legal-holds/{hold}/lift"
    proposed = await client.post(lift, headers=again.headers)
    assert proposed.status_code == 202, proposed.text
    own = await client.post(lift, headers=again.headers)
    assert own.status_code == 409
    assert own.json()["type"].endswith("own_proposal")
    refusals = await pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'four_eyes.refused'"
    )
    assert refusals == 1  # committed with the refusal
    with pytest.raises(UnderLegalHold):
        await _erase(pool, clock, person.user_id)
    later = await session_caller(
        pool, clock(), email="ops2@provider.example", user_id=second.user_id
    )
    await _as(client, later)
    lifted = await client.post(lift, headers=later.headers)
    assert lifted.status_code == 200, lifted.text
    assert (await client.post(lift, headers=later.headers)).status_code == 404
    await _erase(pool, clock, person.user_id)
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", person.user_id) == (
        "erased"
    )


async def test_open_screening_hits_and_pending_determinations_hold_by_themselves(
    pool: db.Pool, clock: FakeClock
) -> None:
    async with db.transaction(pool) as conn:
        listed = await create_user(conn, clock(), email="listed@example.com")
        pending = await create_user(conn, clock(), email="pending@example.com")
        await record_attestations(conn, user_id=pending, provider="p", drafts=[AttestationDraft(
            kind="nationalities", values=("DE",), trust_framework="t", assurance="IAL2",
            verified_at=clock(), expires_at=clock() + timedelta(days=300), evidence=(),
        )], now=clock())  # fmt: skip
        await record_most_recent_country(
            conn, user_id=pending, country="DE", operator=uuid.uuid4(),
            justification="naturalised there last, certificate seen", now=clock(),
            rule=TWO_OPERATORS,
        )  # fmt: skip
    async with pool.acquire() as conn:
        await import_demo_list(conn, clock())
        await screen(conn, clock(), listed, name="Boris Gennadyevich Ostrovsky")
    assert await pool.fetchval("SELECT state FROM person_screening_hits") == "open"
    with pytest.raises(UnderLegalHold, match="open screening hit"):
        await _erase(pool, clock, listed)
    with pytest.raises(UnderLegalHold, match="awaiting its second operator"):
        await _erase(pool, clock, pending)


async def test_a_hold_on_an_organisation_holds_its_members(
    client: AsyncTestClient[Litestar], pool: db.Pool, clock: FakeClock
) -> None:
    operator = await session_caller(pool, clock(), email="ops@provider.example", operator=True)
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        member = await create_user(conn, clock(), email="member@example.com")
        await add_member(conn, clock(), org, member)
        other = await create_user(conn, clock(), email="other@example.com")
    await _as(client, operator)
    placed = await client.post(
        f"/v1/operator/orgs/{org}/legal-hold", json=HOLD, headers=operator.headers
    )
    assert placed.status_code == 201, placed.text
    shown = (await client.get(f"/v1/operator/orgs/{org}/legal-holds")).json()["holds"]
    assert shown[0]["reason"] == HOLD["reason"]
    # Sealed under the organisation's key, like its other texts.
    assert HOLD["reason"] not in await pool.fetchval("SELECT reason::text FROM legal_holds")
    with pytest.raises(UnderLegalHold, match="DOJ-2026-0412"):
        await _erase(pool, clock, member)
    await _erase(pool, clock, other)  # not a member: not held
