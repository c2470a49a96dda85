"""The device authorization grant and rotating, DPoP-bound refresh tokens, end to end over
HTTP against the running service with the demo identity provider."""

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
from idsvc.verify import Verifier
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.device_client import DeviceProgram, approve
from tests.support.forge import Key, dpop_proof
from tests.support.signin import sign_in

MODEL = "https://api.example.com/mythos-5"
POLICY = PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("model:invoke",))
SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schemas" / "eligibility-token.schema.json").read_text()
)


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,)) as (url, _):
        yield url


@pytest.fixture
async def browser(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


@pytest.fixture
async def program(service: str, clock: FakeClock) -> AsyncIterator[DeviceProgram]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield DeviceProgram(client, clock)


async def connected(
    program: DeviceProgram,
    browser: httpx.AsyncClient,
    clock: FakeClock,
    persona: str = "us-citizen",
) -> dict[str, object]:
    await sign_in(browser, persona)
    started = await program.start()
    pending = await program.poll(started["device_code"])
    assert pending.json()["error"] == "authorization_pending"
    decided = await approve(browser, started["user_code"])
    assert decided.status_code == 200
    assert "is connected" in decided.text
    clock.advance(started["interval"])
    granted = await program.poll(started["device_code"])
    assert granted.status_code == 200, granted.text
    return granted.json()  # type: ignore[no-any-return]


async def test_device_flow_then_refresh_gives_an_eligibility_token_gateways_accept(
    program: DeviceProgram, browser: httpx.AsyncClient, clock: FakeClock, service: str
) -> None:
    granted = await connected(program, browser, clock)
    assert granted["token_type"] == "N_A"
    assert "access_token" not in granted
    refreshed = await program.refresh(str(granted["refresh_token"]), MODEL)
    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert body["token_type"] == "DPoP"
    assert body["refresh_token"] != granted["refresh_token"]
    assert refreshed.headers["cache-control"] == "no-store"
    token = body["access_token"]
    jwks = (await program.http.get("/.well-known/jwks.json")).json()
    claims = Verifier(issuer=service, audience=MODEL, jwks=jwks, clock=clock.timestamp).verify(
        token,
        dpop_proof=dpop_proof(
            program.key, token, htu=f"{service}/v1/infer", iat=clock().timestamp()
        ),
        method="POST",
        url=f"{service}/v1/infer",
    )
    assert claims.cnf is not None
    decoded = pyjwt.decode(
        token,
        key=pyjwt.PyJWKSet.from_dict(jwks).keys[0].key,
        algorithms=["ES256"],
        audience=MODEL,
        issuer=service,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    jsonschema.validate(decoded, SCHEMA)


async def test_a_reused_refresh_token_revokes_the_whole_grant(
    program: DeviceProgram, browser: httpx.AsyncClient, clock: FakeClock, database_url: str
) -> None:
    granted = await connected(program, browser, clock)
    first = str(granted["refresh_token"])
    second = (await program.refresh(first, MODEL)).json()["refresh_token"]
    replayed = await program.refresh(first, MODEL)
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"
    # The legitimate holder's newer token dies with the grant: one of the two is a thief.
    after = await program.refresh(second, MODEL)
    assert after.json()["error"] == "invalid_grant"
    conn = await db.connect(database_url)
    try:
        reason = await conn.fetchval("SELECT revoked_reason FROM oauth_grants")
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'oauth.grant.revoked'"
        )
    finally:
        await conn.close()
    assert reason == "refresh_token_reused"
    assert audited == 1
    conn = await db.connect(database_url)
    try:
        refusals = await conn.fetch(
            "SELECT data->>'reason' AS reason FROM audit_events WHERE action = 'token.refused'"
        )
    finally:
        await conn.close()
    assert {r["reason"] for r in refusals} == {"refresh_token_reused", "grant_revoked"}


async def test_a_refresh_token_is_useless_without_its_dpop_key(
    program: DeviceProgram, browser: httpx.AsyncClient, clock: FakeClock
) -> None:
    granted = await connected(program, browser, clock)
    thief = await program.refresh(str(granted["refresh_token"]), MODEL, key=Key())
    assert thief.status_code == 400
    assert thief.json()["error"] == "invalid_dpop_proof"
    no_proof = await program.token(
        {
            "grant_type": "refresh_token",
            "refresh_token": str(granted["refresh_token"]),
            "resource": MODEL,
        },
        dpop=False,
    )
    assert no_proof.json()["error"] == "invalid_dpop_proof"
    # Neither attempt consumed the token: its holder still refreshes.
    assert (await program.refresh(str(granted["refresh_token"]), MODEL)).status_code == 200


async def test_polling_answers_pending_slow_down_denied_and_expired(
    program: DeviceProgram, browser: httpx.AsyncClient, clock: FakeClock
) -> None:
    await sign_in(browser, "us-citizen")
    started = await program.start()
    assert (await program.poll(started["device_code"])).json()["error"] == "authorization_pending"
    assert (await program.poll(started["device_code"])).json()["error"] == "slow_down"
    clock.advance(started["interval"] + 5)
    await approve(browser, started["user_code"], decision="deny")
    assert (await program.poll(started["device_code"])).json()["error"] == "access_denied"

    late = await program.start()
    clock.advance(late["expires_in"] + 1)
    assert (await program.poll(late["device_code"])).json()["error"] == "expired_token"
    refused = await approve(browser, late["user_code"])
    assert "unknown, expired or already used" in refused.text


async def test_a_device_code_is_single_use_and_bound_to_its_client(
    program: DeviceProgram, browser: httpx.AsyncClient, clock: FakeClock
) -> None:
    await sign_in(browser, "us-citizen")
    started = await program.start()
    await approve(browser, started["user_code"])
    other = await program.http.post(
        "/oauth2/token",
        data={
            "client_id": "someone-else",
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": started["device_code"],
        },
    )
    assert other.status_code == 401
    assert other.json()["error"] == "invalid_client"
    assert (await program.poll(started["device_code"])).status_code == 200
    clock.advance(started["interval"])
    assert (await program.poll(started["device_code"])).json()["error"] == "invalid_grant"


async def test_a_denial_on_refresh_lists_reasons_and_keeps_the_refresh_token(
    program: DeviceProgram, browser: httpx.AsyncClient, clock: FakeClock
) -> None:
    granted = await connected(program, browser, clock, persona="foreign-national")
    denied = await program.refresh(str(granted["refresh_token"]), MODEL)
    assert denied.status_code == 403
    assert denied.json()["error"] == "access_denied"
    assert denied.json()["reasons"] == ["not_us_person"]
    [explained] = denied.json()["explanations"]
    assert explained["reason"] == "not_us_person"
    assert "U.S. persons" in explained["explanation"]
    again = await program.refresh(str(granted["refresh_token"]), MODEL)
    assert again.json()["error"] == "access_denied"


async def test_public_clients_must_bind_with_dpop_and_unknown_grants_are_refused(
    program: DeviceProgram, browser: httpx.AsyncClient, clock: FakeClock
) -> None:
    await sign_in(browser, "us-citizen")
    started = await program.start()
    await approve(browser, started["user_code"])
    unbound = await program.token(
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": started["device_code"],
        },
        dpop=False,
    )
    assert unbound.json()["error"] == "invalid_dpop_proof"
    exchange = await program.token(
        {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange"}
    )
    assert exchange.json()["error"] == "unauthorized_client"
    unknown = await program.token({"grant_type": "password"})
    assert unknown.json()["error"] == "unsupported_grant_type"
    repeated = await program.http.post(
        "/oauth2/token",
        content="client_id=idsvc-cli&grant_type=a&grant_type=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert repeated.status_code == 400
    assert repeated.json()["error"] == "invalid_request"


async def test_revoking_a_refresh_token_ends_the_grant(
    program: DeviceProgram, browser: httpx.AsyncClient, clock: FakeClock
) -> None:
    granted = await connected(program, browser, clock)
    refresh_token = str(granted["refresh_token"])
    revoked = await program.http.post(
        "/oauth2/revoke", data={"client_id": "idsvc-cli", "token": refresh_token}
    )
    assert revoked.status_code == 200
    assert (await program.refresh(refresh_token, MODEL)).json()["error"] == "invalid_grant"
    # Unknown tokens get the same answer (RFC 7009 §2.2).
    unknown = await program.http.post(
        "/oauth2/revoke", data={"client_id": "idsvc-cli", "token": "idsvc_rt_nothing"}
    )
    assert unknown.status_code == 200


async def test_an_expired_attestation_is_denied_at_the_next_refresh(
    program: DeviceProgram, browser: httpx.AsyncClient, clock: FakeClock, database_url: str
) -> None:
    granted = await connected(program, browser, clock)
    first = await program.refresh(str(granted["refresh_token"]), MODEL)
    assert first.status_code == 200
    conn = await db.connect(database_url)
    try:
        await conn.execute("UPDATE attestations SET expires_at = $1", clock())
    finally:
        await conn.close()
    denied = await program.refresh(first.json()["refresh_token"], MODEL)
    assert denied.status_code == 403
    assert denied.json()["reasons"] == ["attestation_expired"]


async def test_two_dpop_headers_are_refused_and_consume_nothing(
    program: DeviceProgram, browser: httpx.AsyncClient, clock: FakeClock
) -> None:
    """RFC 9449 §4.3: exactly one DPoP header. With two (the holder's and another key's)
    the request is refused, whichever one a parser would have picked."""
    granted = await connected(program, browser, clock)
    form = {
        "client_id": program.client_id,
        "grant_type": "refresh_token",
        "refresh_token": str(granted["refresh_token"]),
        "resource": MODEL,
    }
    for other in (program.proof("/oauth2/token", Key()), program.proof("/oauth2/token")):
        twice = await program.http.post(
            "/oauth2/token",
            data=form,
            headers=[("DPoP", program.proof("/oauth2/token")), ("DPoP", other)],
        )
        assert twice.status_code == 400, twice.text
        assert twice.json()["error"] == "invalid_dpop_proof"
    assert (await program.refresh(str(granted["refresh_token"]), MODEL)).status_code == 200
