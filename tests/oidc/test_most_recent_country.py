"""An operator records a foreign person's most recent country of citizenship or permanent
residency (15 CFR 734.13(b)); a policy with nationality_rule = "most_recent" then decides
on it, the person sees it on /me, their earlier tokens are revoked, and nobody else can
record one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.audit.personal import open_sealed
from idsvc.policy.model import PolicySettings
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.signin import sign_in

OPERATOR = "demo:demo-0a6b3c88-email-only"  # the email-only persona acts as the operator
MODEL = "https://api.example.com/research"
# Foreign persons welcome, except nationals of Germany (to make the rule visible with the
# demo persona Frieda, a German national), under the EAR's most-recent rule.
POLICY = PolicySettings(
    id="research", version=1, audience=MODEL, require_us_person=False,
    deny_nationalities=("DE",), nationality_rule="most_recent", entitlements=("use",),
)  # fmt: skip
JUSTIFICATION = "Naturalised in Austria 2019-05-02; certificate and passport seen."


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, operators=(OPERATOR,), policies=(POLICY,)) as (
        url,
        _,
    ):
        yield url


async def _csrf(client: httpx.AsyncClient) -> str:
    return str((await client.get("/v1/me")).json()["csrf_token"])


@pytest.fixture
async def operator(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        await sign_in(client, "email-only")
        yield client


@pytest.fixture
async def person(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        await sign_in(client, "foreign-national")
        yield client


async def _token(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(
        "/v1/eligibility-tokens",
        json={"audience": MODEL},
        headers={"x-csrf-token": await _csrf(client)},
    )


async def test_a_determination_decides_under_the_most_recent_rule(
    operator: httpx.AsyncClient, person: httpx.AsyncClient, pool: db.Pool
) -> None:
    refused = await _token(person)
    assert refused.status_code == 403
    assert refused.json()["reasons"] == ["most_recent_country_unknown"]
    assert "compliance team" in refused.json()["explanations"][0]["explanation"]
    user_id = await pool.fetchval(
        "SELECT user_id FROM identities WHERE subject = 'demo-c4a85e13-foreign-national'"
    )
    url = f"/v1/operator/users/{user_id}/most-recent-country"

    # Nobody but an operator; nothing but a country; a justification.
    as_person = await person.post(
        url, json={"country": "AT", "justification": JUSTIFICATION},
        headers={"x-csrf-token": await _csrf(person)},
    )  # fmt: skip
    assert as_person.status_code == 403
    csrf = await _csrf(operator)
    for body in (
        {"country": "XXA", "justification": JUSTIFICATION},  # stateless is not a country
        {"country": "ZZ", "justification": JUSTIFICATION},
        {"country": "AT", "justification": "short"},
    ):
        bad = await operator.post(url, json=body, headers={"x-csrf-token": csrf})
        assert bad.status_code == 400, (body, bad.text)
    unknown = await operator.post(
        "/v1/operator/users/00000000-0000-4000-8000-000000000000/most-recent-country",
        json={"country": "AT", "justification": JUSTIFICATION},
        headers={"x-csrf-token": csrf},
    )
    assert unknown.status_code == 404
    assert (
        await pool.fetchval("SELECT count(*) FROM attestations WHERE kind = 'most_recent_country'")
        == 0
    )

    # Frieda is a German national; her most recent citizenship is Austrian.
    recorded = await operator.post(
        url, json={"country": "AUT", "justification": JUSTIFICATION},
        headers={"x-csrf-token": csrf},
    )  # fmt: skip
    assert recorded.status_code == 201, recorded.text
    granted = await _token(person)
    assert granted.status_code == 201, granted.text
    status = (await person.get("/v1/me")).json()
    shown = {a["kind"]: a["values"] for a in status["attestations"]}
    assert shown["most_recent_country"] == "AT"
    event = await pool.fetchrow(
        "SELECT actor, data FROM audit_events"
        " WHERE action = 'person.most_recent_country.determined'"
    )
    # Sealed under her data key (crypto-shredding); operators open it. The quoted value:
    # the sealed text is base64url and held "AT" by chance in one run of about thirty.
    assert '"AT"' not in json.dumps(event["data"])
    async with pool.acquire() as conn:
        opened = await open_sealed(conn, event["data"])
    assert opened["personal"] == {"country": "AT", "justification": JUSTIFICATION}

    # A new determination supersedes it, and the token issued on the old one is revoked.
    again = await operator.post(
        url, json={"country": "DE", "justification": JUSTIFICATION},
        headers={"x-csrf-token": csrf},
    )  # fmt: skip
    assert again.status_code == 201
    revoked = await pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'token.status.invalid'"
        " AND data->>'reason' = 'most_recent_country_determined'"
    )
    assert revoked >= 1
    refused_again = await _token(person)
    assert refused_again.json()["reasons"] == ["nationality_denied"]
