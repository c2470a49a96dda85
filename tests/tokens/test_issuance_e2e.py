"""The thin slice end to end: sign in through the provider, attestations recorded, a
token issued in the browser session, and the token verified offline by a gateway."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import jsonschema
import jwt as pyjwt
import pytest

from idsvc import db
from idsvc.policy.model import PolicySettings
from idsvc.verify import DPoPRequired, Verifier
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.forge import Key, dpop_proof
from tests.support.signin import sign_in

MODEL = "https://api.example.com/mythos-5"
STRICT = "https://api.example.com/mythos-5-no-cn"
BOUND = "https://api.example.com/mythos-5-bound"
POLICIES = (
    PolicySettings(
        id="mythos-5",
        version=3,
        audience=MODEL,
        min_assurance="IAL2",
        entitlements=("model:mythos-5:invoke",),
    ),
    PolicySettings(
        id="mythos-5-no-cn",
        version=1,
        audience=STRICT,
        deny_nationalities=("CHN",),
        entitlements=("model:mythos-5:invoke",),
        token_lifetime=120,
    ),
    PolicySettings(
        id="bound",
        version=1,
        audience=BOUND,
        dpop="required",
        entitlements=("model:mythos-5:invoke",),
    ),
)
SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schemas" / "eligibility-token.schema.json").read_text()
)


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, policies=POLICIES) as (url, _):
        yield url


@pytest.fixture
async def client(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


async def request_token(
    client: httpx.AsyncClient, audience: str, *, dpop: str | None = None
) -> httpx.Response:
    page = await client.get("/me")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    headers = {"x-csrf-token": csrf} | ({"DPoP": dpop} if dpop else {})
    return await client.post("/v1/eligibility-tokens", json={"audience": audience}, headers=headers)


async def test_signed_in_us_person_gets_a_token_that_gateways_verify_offline(
    client: httpx.AsyncClient, service: str, clock: FakeClock
) -> None:
    await sign_in(client, "us-citizen")
    response = await request_token(client, MODEL)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    token = body["access_token"]

    verifier = Verifier(
        issuer=service,
        audience=MODEL,
        jwks_url=f"{service}/.well-known/jwks.json",
        clock=clock.timestamp,
    )
    claims = verifier.verify(token)
    assert claims.pol == "mythos-5@3"
    assert claims.entitlements == ("model:mythos-5:invoke",)
    assert claims.assurance == "IAL2"

    payload = pyjwt.decode(token, options={"verify_signature": False})
    jsonschema.validate(payload, SCHEMA)
    # The decision, not the data: nothing personal in the token. (Not in the random-looking
    # values either, which could hold "US" by chance: pairwise subject, token id, key hash.)
    text = json.dumps({k: v for k, v in payload.items() if k not in ("sub", "jti", "cnf")})
    for personal in ("US", "citizen", "alice", "Alice", "nationalit"):
        assert personal not in text.replace("mythos", "")


async def test_subject_is_pairwise_per_audience(client: httpx.AsyncClient) -> None:
    await sign_in(client, "us-citizen")

    def subject(response: httpx.Response) -> str:
        claims = pyjwt.decode(response.json()["access_token"], options={"verify_signature": False})
        return str(claims["sub"])

    first, again, other = (
        await request_token(client, MODEL),
        await request_token(client, MODEL),
        await request_token(client, STRICT),
    )
    assert subject(first) == subject(again)
    assert subject(first) != subject(other)


@pytest.mark.parametrize(
    ("persona", "audience", "reasons"),
    [
        ("foreign-national", MODEL, ["not_us_person"]),
        ("low-assurance", MODEL, ["assurance_too_low"]),
        ("email-only", MODEL, ["attestation_missing"]),
        ("dual-national", STRICT, ["nationality_denied"]),
    ],
)
async def test_denials_say_why_and_are_audited(
    client: httpx.AsyncClient,
    database_url: str,
    persona: str,
    audience: str,
    reasons: list[str],
) -> None:
    await sign_in(client, persona)
    response = await request_token(client, audience)
    assert response.status_code == 403
    problem = response.json()
    assert problem["error"] == "access_denied"
    assert problem["reasons"] == reasons
    # Each code with the words the status page uses, so a page or a CLI can show them.
    assert [e["reason"] for e in problem["explanations"]] == reasons
    assert all(len(e["explanation"]) > 20 for e in problem["explanations"])
    assert "CN" not in str(problem["explanations"])  # never the person's nationality
    conn = await db.connect(database_url)
    try:
        event = await conn.fetchrow("SELECT data FROM audit_events WHERE action = 'token.denied'")
        issued = await conn.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'token.issued'"
        )
    finally:
        await conn.close()
    assert event["data"]["reasons"] == reasons
    assert event["data"]["policy"] in ("mythos-5@3", "mythos-5-no-cn@1")
    assert issued == 0


async def test_dual_national_us_citizen_is_granted_where_only_us_person_is_required(
    client: httpx.AsyncClient,
) -> None:
    await sign_in(client, "dual-national")
    assert (await request_token(client, MODEL)).status_code == 201


async def test_bad_requests_change_nothing(client: httpx.AsyncClient, database_url: str) -> None:
    await sign_in(client, "us-citizen")
    page = await client.get("/me")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    no_csrf = await client.post("/v1/eligibility-tokens", json={"audience": MODEL})
    assert no_csrf.status_code == 403
    unknown = await client.post(
        "/v1/eligibility-tokens", json={"audience": "https://nope"}, headers={"x-csrf-token": csrf}
    )
    assert unknown.status_code == 400
    assert unknown.json()["type"] == "urn:idsvc:problem:invalid_target"
    for body in ({}, {"audience": ""}, {"audience": MODEL, "lifetime": 9999}, {"audience": 5}):
        bad = await client.post("/v1/eligibility-tokens", json=body, headers={"x-csrf-token": csrf})
        assert bad.status_code == 400, body
    async with httpx.AsyncClient(base_url=str(client.base_url)) as anonymous:
        assert (
            await anonymous.post("/v1/eligibility-tokens", json={"audience": MODEL})
        ).status_code == 401
    conn = await db.connect(database_url)
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM audit_events WHERE action LIKE 'token.%'")
            == 0
        )
    finally:
        await conn.close()


async def test_dpop_bound_token_from_the_browser(
    client: httpx.AsyncClient, service: str, clock: FakeClock
) -> None:
    await sign_in(client, "us-citizen")
    holder = Key("ES256")
    issuance_proof = dpop_proof(
        holder,
        "",
        htm="POST",
        htu=f"{service}/v1/eligibility-tokens",
        iat=clock().timestamp(),
        ath=None,
    )
    response = await request_token(client, BOUND, dpop=issuance_proof)
    assert response.status_code == 201, response.text
    assert response.json()["token_type"] == "DPoP"
    token = response.json()["access_token"]
    verifier = Verifier(
        issuer=service,
        audience=BOUND,
        jwks_url=f"{service}/.well-known/jwks.json",
        clock=clock.timestamp,
    )
    with pytest.raises(DPoPRequired):
        verifier.verify(token)
    api = "https://api.example.com/v1/infer"
    proof = dpop_proof(holder, token, htu=api, iat=clock().timestamp())
    assert verifier.verify(token, dpop_proof=proof, method="POST", url=api).cnf is not None
    # The issuance proof cannot be replayed for a second token.
    again = await request_token(client, BOUND, dpop=issuance_proof)
    assert again.status_code == 400
    assert again.json()["type"] == "urn:idsvc:problem:invalid_dpop_proof"


async def test_dpop_required_audience_refuses_a_bearer_request(
    client: httpx.AsyncClient, service: str, clock: FakeClock
) -> None:
    await sign_in(client, "us-citizen")
    assert (await request_token(client, BOUND)).status_code == 400
    wrong_url = dpop_proof(
        Key("ES256"),
        "",
        htm="POST",
        htu="https://elsewhere/v1/eligibility-tokens",
        iat=clock().timestamp(),
        ath=None,
    )
    assert (await request_token(client, BOUND, dpop=wrong_url)).status_code == 400


async def test_status_page_says_per_service_what_is_missing(client: httpx.AsyncClient) -> None:
    await sign_in(client, "low-assurance")
    page = (await client.get("/me")).text
    assert MODEL in page
    assert "verify with a provider at IAL2 or higher" in page
    assert "CN" not in page.split("<h2>Services</h2>")[1].split("<h2>")[0]


async def test_status_page_says_eligible(client: httpx.AsyncClient) -> None:
    await sign_in(client, "us-citizen")
    page = (await client.get("/me")).text
    services = page.split("<h2>Services</h2>")[1].split("<h2>")[0]
    assert services.count("you are eligible") == 3


async def test_token_requests_are_rate_limited_per_user(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    with demo_service(database_url, tmp_path, clock, policies=POLICIES, token_rate_limit=3) as (
        url,
        _,
    ):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            await sign_in(client, "us-citizen")
            statuses = [(await request_token(client, MODEL)).status_code for _ in range(4)]
            assert statuses == [201, 201, 201, 429]
            limited = await request_token(client, MODEL)
            assert int(limited.headers["retry-after"]) > 0


async def test_two_dpop_headers_are_refused(
    client: httpx.AsyncClient, service: str, clock: FakeClock
) -> None:
    await sign_in(client, "us-citizen")
    page = await client.get("/me")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    proofs = [
        dpop_proof(
            Key("ES256"),
            "",
            htm="POST",
            htu=f"{service}/v1/eligibility-tokens",
            iat=clock().timestamp(),
            ath=None,
        )
        for _ in range(2)
    ]
    response = await client.post(
        "/v1/eligibility-tokens",
        json={"audience": BOUND},
        headers=[("x-csrf-token", csrf), ("DPoP", proofs[0]), ("DPoP", proofs[1])],
    )
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "urn:idsvc:problem:invalid_dpop_proof"


async def test_a_script_gets_the_csrf_token_from_v1_me(client: httpx.AsyncClient) -> None:
    """A script signed in with a session cookie needs no page scraping: /v1/me gives the
    CSRF token the state-changing calls require."""
    await sign_in(client, "us-citizen")
    me = (await client.get("/v1/me")).json()
    response = await client.post(
        "/v1/eligibility-tokens",
        json={"audience": MODEL},
        headers={"x-csrf-token": me["csrf_token"]},
    )
    assert response.status_code == 201, response.text
    forged = await client.post(
        "/v1/eligibility-tokens", json={"audience": MODEL}, headers={"x-csrf-token": "x" * 64}
    )
    assert forged.status_code == 403
