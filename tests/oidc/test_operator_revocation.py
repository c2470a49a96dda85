"""Operators revoke attestations with a reason; nobody else can, and users see the result."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.audit.personal import open_sealed
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.signin import sign_in

OPERATOR = "demo:demo-0a6b3c88-email-only"  # the email-only persona acts as the operator


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, operators=(OPERATOR,)) as (url, _):
        yield url


@pytest.fixture
async def operator(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        await sign_in(client, "email-only")
        yield client


@pytest.fixture
async def user(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        await sign_in(client, "us-citizen")
        yield client


def csrf(client: httpx.AsyncClient) -> object:
    async def token() -> str:
        page = await client.get("/me")
        return page.text.split('name="csrf_token" value="')[1].split('"')[0]

    return token()


async def basis_attestation(database_url: str) -> tuple[str, str]:
    conn = await db.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT id, user_id FROM attestations "
            "WHERE kind = 'us_person_basis' AND revoked_at IS NULL"
        )
    finally:
        await conn.close()
    assert row is not None
    return str(row["id"]), str(row["user_id"])


async def test_operator_revokes_with_a_reason_and_the_user_sees_it(
    operator: httpx.AsyncClient, user: httpx.AsyncClient, database_url: str
) -> None:
    attestation, user_id = await basis_attestation(database_url)
    listing = await operator.get(f"/v1/operator/users/{user_id}/attestations")
    assert listing.status_code == 200
    assert {a["kind"] for a in listing.json()["attestations"]} == {
        "nationalities",
        "us_person_basis",
    }

    response = await operator.post(
        f"/v1/operator/attestations/{attestation}/revoke",
        json={"reason": "document reported stolen"},
        headers={"x-csrf-token": await csrf(operator)},  # type: ignore[arg-type]
    )
    assert response.status_code == 200, response.text
    status = (await user.get("/v1/me")).json()
    assert status["us_person"] is None
    assert "revoked" in " ".join(status["missing"])

    conn = await db.connect(database_url)
    try:
        event = await conn.fetchrow(
            "SELECT actor, data FROM audit_events WHERE action = 'attestation.revoked'"
        )
        # The reason may name the person: sealed under their data key, opened by operators.
        assert (await open_sealed(conn, event["data"]))["reason"] == "document reported stolen"
    finally:
        await conn.close()
    assert event["actor"].startswith("user:")


async def test_revocation_needs_csrf_and_a_reason(
    operator: httpx.AsyncClient, user: httpx.AsyncClient, database_url: str
) -> None:
    attestation, _ = await basis_attestation(database_url)
    url = f"/v1/operator/attestations/{attestation}/revoke"
    no_csrf = await operator.post(url, json={"reason": "valid reason"})
    assert no_csrf.status_code == 403
    token = await csrf(operator)  # type: ignore[misc]
    for body in ({}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "ok reason", "extra": 1}):
        bad = await operator.post(url, json=body, headers={"x-csrf-token": token})
        assert bad.status_code == 400, body
    assert (await user.get("/v1/me")).json()["us_person"] is not None  # nothing changed


async def test_non_operators_are_refused(user: httpx.AsyncClient, database_url: str) -> None:
    attestation, user_id = await basis_attestation(database_url)
    assert (await user.get(f"/v1/operator/users/{user_id}/attestations")).status_code == 403
    token = await csrf(user)  # type: ignore[misc]
    refused = await user.post(
        f"/v1/operator/attestations/{attestation}/revoke",
        json={"reason": "self-service attempt"},
        headers={"x-csrf-token": token},
    )
    assert refused.status_code == 403
    async with httpx.AsyncClient(base_url=str(user.base_url)) as anonymous:
        assert (
            await anonymous.get(f"/v1/operator/users/{user_id}/attestations")
        ).status_code == 401
    assert (await user.get("/v1/me")).json()["us_person"] is not None


async def test_unknown_attestation_is_404(operator: httpx.AsyncClient) -> None:
    token = await csrf(operator)  # type: ignore[misc]
    response = await operator.post(
        "/v1/operator/attestations/00000000-0000-4000-8000-000000000000/revoke",
        json={"reason": "no such thing"},
        headers={"x-csrf-token": token},
    )
    assert response.status_code == 404, response.text


async def test_each_operator_read_of_a_persons_attestations_is_audited(
    operator: httpx.AsyncClient, user: httpx.AsyncClient, database_url: str
) -> None:
    _, user_id = await basis_attestation(database_url)
    for _ in range(2):
        read = await operator.get(f"/v1/operator/users/{user_id}/attestations")
        assert read.status_code == 200
    conn = await db.connect(database_url)
    try:
        events = await conn.fetch(
            "SELECT actor, target, data FROM audit_events"
            " WHERE action = 'person.attestations.viewed' ORDER BY seq"
        )
    finally:
        await conn.close()
    assert len(events) == 2
    assert all(e["target"] == f"user:{user_id}" for e in events)
    assert all(set(e["data"]) == {"attestations"} for e in events)  # no values recorded
