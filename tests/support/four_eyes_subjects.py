"""The subjects of four-eyes decisions, as the tests in this folder set them up: each
returns how an operator calls the decision and how to see that it took effect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from tests.support.clock import FakeClock
from tests.support.factories import attest, create_org, create_user
from tests.support.screening import screen
from tests.support.signin import Caller, call, session_caller
from tests.support.vetting import org_request

__all__ = [
    "SETUPS",
    "Decision",
    "approve_org",
    "grant_programs",
    "lift_hold",
    "override_person_hit",
    "refusals",
    "reinstate_attestation",
    "two_operators",
]

Client = AsyncTestClient[Litestar]
LISTED_NAME = "Boris Gennadyevich Ostrovsky"  # in the demo list


@dataclass(frozen=True)
class Decision:
    """One four-eyes action as an operator calls it, and how to see that it took effect."""

    method: str
    url: str
    body: dict[str, object] | None
    done: Callable[[], Awaitable[bool]]


async def two_operators(pool: db.Pool, clock: FakeClock) -> tuple[Caller, Caller]:
    first = await session_caller(pool, clock(), email="ops1@provider.example", operator=True)
    second = await session_caller(pool, clock(), email="ops2@provider.example", operator=True)
    return first, second


async def approve_org(client: Client, pool: db.Pool, clock: FakeClock) -> Decision:
    requester = await session_caller(pool, clock(), us_person=True)
    created = await call(client, requester, "POST", "/v1/orgs", org_request(domains=[]))
    assert created.status_code == 201, created.text
    org_id = created.json()["id"]

    async def done() -> bool:
        status = await pool.fetchval("SELECT status FROM organisations WHERE id = $1", org_id)
        return bool(status == "approved")

    body = {"status": "approved", "reason": "EIN and register checked"}
    return Decision("POST", f"/v1/operator/orgs/{org_id}/status", body, done)


async def grant_programs(client: Client, pool: db.Pool, clock: FakeClock) -> Decision:
    async with db.transaction(pool) as conn:
        org_id = await create_org(conn, clock())

    async def done() -> bool:
        programs = await pool.fetchval("SELECT programs FROM organisations WHERE id = $1", org_id)
        return list(programs) == ["frontier-research"]

    body = {"programs": ["frontier-research"], "reason": "eligible under the program rules"}
    return Decision("POST", f"/v1/operator/orgs/{org_id}/programs", body, done)


async def override_person_hit(client: Client, pool: db.Pool, clock: FakeClock) -> Decision:
    async with db.transaction(pool) as conn:
        person = await create_user(conn, clock(), email="boris@example.com")
    async with pool.acquire() as conn:
        await screen(conn, clock(), person, name=LISTED_NAME)
    hit = await pool.fetchval("SELECT id FROM person_screening_hits WHERE user_id = $1", person)
    assert hit is not None

    async def done() -> bool:
        state = await pool.fetchval("SELECT state FROM person_screening_hits WHERE id = $1", hit)
        return bool(state == "overridden")

    body = {"justification": "Different person: born 1990, the listed one in 1961."}
    return Decision(
        "POST", f"/v1/operator/users/{person}/screening-hits/{hit}/override", body, done
    )


async def reinstate_attestation(client: Client, pool: db.Pool, clock: FakeClock) -> Decision:
    async with db.transaction(pool) as conn:
        person = await create_user(conn, clock())
        await attest(conn, clock(), person)
        attestation = await conn.fetchval(
            "SELECT id FROM attestations WHERE user_id = $1 AND kind = 'nationalities'", person
        )
        await conn.execute(
            "UPDATE attestations SET revoked_at = $2, revoked_by = 'test' WHERE id = $1",
            attestation, clock(),
        )  # fmt: skip

    async def done() -> bool:
        revoked = await pool.fetchval(
            "SELECT revoked_at FROM attestations WHERE id = $1", attestation
        )
        return revoked is None

    body = {"reason": "revoked in error: the wrong person's record"}
    return Decision("POST", f"/v1/operator/attestations/{attestation}/reinstate", body, done)


async def lift_hold(client: Client, pool: db.Pool, clock: FakeClock) -> Decision:
    async with db.transaction(pool) as conn:
        person = await create_user(conn, clock())
    placer = await session_caller(pool, clock(), operator=True)
    hold = {"case_reference": "DOJ-2026-0412", "reason": "Subpoena received for the logs"}
    placed = await call(client, placer, "POST", f"/v1/operator/users/{person}/legal-hold", hold)
    assert placed.status_code == 201, placed.text
    hold_id = placed.json()["hold"]

    async def done() -> bool:
        lifted = await pool.fetchval("SELECT lifted_at FROM legal_holds WHERE id = $1", hold_id)
        return lifted is not None

    return Decision("POST", f"/v1/operator/legal-holds/{hold_id}/lift", None, done)


SETUPS = {
    "org.approve": approve_org,
    "org.programs.grant": grant_programs,
    "person_hit.override": override_person_hit,
    "attestation.reinstate": reinstate_attestation,
    "legal_hold.lift": lift_hold,
}


async def refusals(pool: db.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT data->>'reason' AS reason FROM audit_events "
        "WHERE action = 'four_eyes.refused' ORDER BY seq"
    )
    return [r["reason"] for r in rows]
