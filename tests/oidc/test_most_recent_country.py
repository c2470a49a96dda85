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
from idsvc.settings import ComplianceSettings
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.signin import sign_in

OPERATOR = "demo:demo-0a6b3c88-email-only"  # the email-only persona acts as the operator
SECOND_OPERATOR = "demo:demo-5e27f8c9-low-assurance"  # and a second one (four eyes)
MODEL = "https://api.example.com/research"
# Foreign persons welcome, except nationals of Germany (to make the rule visible with the
# demo persona Frieda, a German national), under the EAR's most-recent rule.
POLICY = PolicySettings(
    id="research", version=1, audience=MODEL, require_us_person=False,
    deny_nationalities=("DE",), nationality_rule="most_recent", entitlements=("use",),
)  # fmt: skip
JUSTIFICATION = "Her only citizenship on record; certificate and passport seen."


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(
        database_url,
        tmp_path,
        clock,
        operators=(OPERATOR, SECOND_OPERATOR),
        policies=(POLICY,),
        compliance=ComplianceSettings(),  # the service's default: four eyes
    ) as (
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
async def second_operator(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        await sign_in(client, "low-assurance")
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
    operator: httpx.AsyncClient,
    second_operator: httpx.AsyncClient,
    person: httpx.AsyncClient,
    pool: db.Pool,
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
        url, json={"country": "DE", "justification": JUSTIFICATION},
        headers={"x-csrf-token": await _csrf(person)},
    )  # fmt: skip
    assert as_person.status_code == 403
    csrf = await _csrf(operator)
    for body in (
        {"country": "XXA", "justification": JUSTIFICATION},  # stateless is not a country
        {"country": "ZZ", "justification": JUSTIFICATION},
        {"country": "DE", "justification": "short"},
    ):
        bad = await operator.post(url, json=body, headers={"x-csrf-token": csrf})
        assert bad.status_code == 400, (body, bad.text)
    unknown = await operator.post(
        "/v1/operator/users/00000000-0000-4000-8000-000000000000/most-recent-country",
        json={"country": "DE", "justification": JUSTIFICATION},
        headers={"x-csrf-token": csrf},
    )
    assert unknown.status_code == 404
    # Issue 24, defect 4: a determination chooses among the countries the evidence names.
    # Frieda's evidence names Germany only: Austria, or the United States, is refused.
    for country in ("AUT", "US"):
        unsupported = await operator.post(
            url, json={"country": country, "justification": JUSTIFICATION},
            headers={"x-csrf-token": csrf},
        )  # fmt: skip
        assert unsupported.status_code == 409, unsupported.text
        assert unsupported.json()["type"].endswith("determination_unsupported")
    assert (
        await pool.fetchval("SELECT count(*) FROM attestations WHERE kind = 'most_recent_country'")
        == 0
    )

    # Germany, her only citizenship: proposed by one operator, it counts for nothing yet.
    proposed = await operator.post(
        url, json={"country": "DEU", "justification": JUSTIFICATION},
        headers={"x-csrf-token": csrf},
    )  # fmt: skip
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["status"] == "pending_confirmation"
    attestation = proposed.json()["attestation"]
    still = await _token(person)
    assert still.json()["reasons"] == ["most_recent_country_unknown"]
    # Four eyes: the operator who proposed it cannot confirm it.
    confirm = f"{url}/{attestation}/confirm"
    own = await operator.post(confirm, headers={"x-csrf-token": csrf})
    assert own.status_code == 409
    assert own.json()["type"].endswith("own_proposal")
    confirmed = await second_operator.post(
        confirm, headers={"x-csrf-token": await _csrf(second_operator)}
    )
    assert confirmed.status_code == 200, confirmed.text
    again = await second_operator.post(
        confirm, headers={"x-csrf-token": await _csrf(second_operator)}
    )
    assert again.status_code == 409
    assert again.json()["type"].endswith("determination_not_pending")

    # Now the rule decides on Germany, which the policy denies.
    refused_again = await _token(person)
    assert refused_again.json()["reasons"] == ["nationality_denied"]
    status = (await person.get("/v1/me")).json()
    shown = {a["kind"]: a["values"] for a in status["attestations"]}
    assert shown["most_recent_country"] == "DE"
    proposal = await pool.fetchrow(
        "SELECT actor, data FROM audit_events WHERE action = 'person.most_recent_country.proposed'"
    )
    # Sealed under her data key (crypto-shredding); operators open it. The quoted value:
    # the sealed text is base64url and could hold "DE" by chance.
    assert '"DE"' not in json.dumps(proposal["data"])
    async with pool.acquire() as conn:
        opened = await open_sealed(conn, proposal["data"])
    assert opened["personal"] == {"country": "DE", "justification": JUSTIFICATION}
    determined = await pool.fetchrow(
        "SELECT actor, data FROM audit_events"
        " WHERE action = 'person.most_recent_country.determined'"
    )
    assert determined["data"]["proposed_by"] == proposal["actor"]
    assert determined["actor"] != proposal["actor"]
