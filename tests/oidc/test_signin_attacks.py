"""Attacks on sign-in, against a real (hostile) OpenID Provider on loopback. Each is
refused, creates no session, no user and no attestation, and is audited with its reason."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from idsvc import db
from idsvc.app import create_app
from idsvc.orgs.members.service import enrol_member
from tests.support.clock import FakeClock
from tests.support.factories import create_org
from tests.support.hostile_idp import (
    CLIENT_SECRET,
    HostileIdP,
    hostile_provider,
    running_hostile_idp,
)
from tests.support.look_alikes import IDS, LOOK_ALIKES
from tests.support.serving import free_port, serve_in_thread
from tests.support.settings import make_settings


@pytest.fixture
def clock() -> FakeClock:
    # The hostile provider stamps tokens with the wall clock; keep idsvc on the same time.
    from datetime import UTC, datetime

    return FakeClock(datetime.now(UTC))


@pytest.fixture
def idp() -> Iterator[HostileIdP]:
    with running_hostile_idp() as hostile:
        yield hostile


@pytest.fixture
def service(idp: HostileIdP, database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    port = free_port()
    settings = make_settings(
        database_url, tmp_path, issuer=f"http://127.0.0.1:{port}", cookie_secure=False
    )
    provider = hostile_provider(idp)
    app = create_app(settings, clock=clock, extra_providers=((provider, CLIENT_SECRET),))
    with serve_in_thread(app, port=port) as base_url:
        yield base_url


@pytest.fixture
async def client(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


async def authorize(client: httpx.AsyncClient) -> str:
    """Start a sign-in and let the provider answer; returns the callback URL."""
    start = await client.get("/login/hostile")
    assert start.status_code == 303
    answer = await client.get(start.headers["location"])
    assert answer.status_code == 303
    return answer.headers["location"]


def with_params(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    params.update(changes)
    return urlunsplit(parts._replace(query=urlencode(params)))


async def facts(database_url: str) -> dict[str, Any]:
    conn = await db.connect(database_url)
    try:
        return {
            "sessions": await conn.fetchval("SELECT count(*) FROM sessions"),
            "users": await conn.fetchval("SELECT count(*) FROM users"),
            "attestations": await conn.fetchval("SELECT count(*) FROM attestations"),
            "refusals": [
                r["data"]["reason"]
                for r in await conn.fetch(
                    "SELECT data FROM audit_events WHERE action = 'signin.refused' ORDER BY seq"
                )
            ],
        }
    finally:
        await conn.close()


async def assert_refused(
    client: httpx.AsyncClient, database_url: str, callback: str, reason: str, *, sessions: int = 0
) -> None:
    response = await client.get(callback)
    assert response.status_code == 400, response.text
    assert reason in response.text
    # No session cookie. The binding is cleared once this browser's own sign-in is spent,
    # never by a callback that was not its own (which any site can make it open).
    spent = reason not in ("state_invalid", "state_not_bound")
    cookies = [c.split("=")[0] for c in response.headers.get_list("set-cookie")]
    assert cookies == (["idsvc_signin"] if spent else [])
    state = await facts(database_url)
    assert state["refusals"][-1] == reason
    assert state["sessions"] == sessions
    if sessions == 0:
        assert state["users"] == 0
        assert state["attestations"] == 0


MODES = [
    ("iss-param-from-another-provider", {"iss_param": "https://other.example"}, "issuer_mismatch"),
    ("iss-param-missing", {"omit_iss_param": True}, "issuer_mismatch"),
    ("id-token-wrong-aud", {"aud": "someone-else"}, "id_token_invalid"),
    ("id-token-wrong-iss", {"id_token_iss": "https://other.example"}, "id_token_invalid"),
    ("id-token-expired", {"exp": int(time.time()) - 3600}, "id_token_invalid"),
    ("id-token-alg-none", {"alg_none": True}, "id_token_invalid"),
    ("id-token-unknown-key", {"unknown_key": True}, "id_token_invalid"),
    ("id-token-wrong-nonce", {"nonce": "replayed-from-another-sign-in"}, "id_token_invalid"),
    ("userinfo-other-subject", {"userinfo_sub": "someone-else"}, "userinfo_subject_mismatch"),
    ("nationality-does-not-exist", {"nationalities": ["ZZZ"]}, "unknown_country_code"),
    ("evidence-too-old", {"verified_at": time.time() - 60 * 86_400}, "evidence_expired"),
]


@pytest.mark.parametrize(("name", "mode", "reason"), MODES, ids=[m[0] for m in MODES])
async def test_provider_answer_is_refused(
    client: httpx.AsyncClient,
    idp: HostileIdP,
    database_url: str,
    name: str,
    mode: dict[str, Any],
    reason: str,
) -> None:
    idp.mode = mode
    await assert_refused(client, database_url, await authorize(client), reason)


async def test_honest_answer_is_accepted(client: httpx.AsyncClient, database_url: str) -> None:
    response = await client.get(await authorize(client))
    assert response.status_code == 303
    assert (await facts(database_url))["attestations"] == 2


async def test_state_mismatch(client: httpx.AsyncClient, database_url: str) -> None:
    callback = with_params(await authorize(client), state="forged-state")
    await assert_refused(client, database_url, callback, "state_invalid")


async def test_state_replay(client: httpx.AsyncClient, database_url: str) -> None:
    callback = await authorize(client)
    assert (await client.get(callback)).status_code == 303
    await assert_refused(client, database_url, callback, "state_invalid", sessions=1)


async def test_code_injected_from_another_authorization_fails_pkce(
    client: httpx.AsyncClient, database_url: str
) -> None:
    # The attacker's code was issued for another PKCE challenge: the provider refuses it
    # when idsvc redeems it with the victim's verifier.
    attacker_code = parse_qs(urlsplit(await authorize(client)).query)["code"][0]
    victim = with_params(await authorize(client), code=attacker_code)
    await assert_refused(client, database_url, victim, "token_exchange_failed")


async def test_missing_code(client: httpx.AsyncClient, database_url: str) -> None:
    callback = await authorize(client)
    parts = urlsplit(callback)
    params = {k: v[0] for k, v in parse_qs(parts.query).items() if k != "code"}
    await assert_refused(
        client, database_url, urlunsplit(parts._replace(query=urlencode(params))), "code_missing"
    )


async def test_contradictory_evidence_is_recorded_for_review_and_makes_no_us_person(
    client: httpx.AsyncClient, idp: HostileIdP, database_url: str
) -> None:
    """A provider saying "citizen" next to Chinese nationality only: the sign-in works,
    the person sees their verification needs review, and no U.S. person is made."""
    idp.mode = {"nationalities": ["CHN"]}
    response = await client.get(await authorize(client))
    assert response.status_code == 303
    status = (await client.get("/v1/me")).json()
    assert status["us_person"] is None
    states = {a["kind"]: a["state"] for a in status["attestations"]}
    assert states == {"nationalities": "valid", "us_person_basis": "needs review"}
    assert any("needs review" in m for m in status["missing"])
    conn = await db.connect(database_url)
    try:
        reason = await conn.fetchval(
            "SELECT inconsistency FROM attestations WHERE kind = 'us_person_basis'"
        )
    finally:
        await conn.close()
    assert "do not include US" in reason


async def enrol_kate(database_url: str, clock: FakeClock) -> uuid.UUID:
    """kate@acme.example, enrolled by CSV in an approved organisation, not yet claimed."""
    conn = await db.connect(database_url)
    try:
        async with conn.transaction():
            org = await create_org(conn, clock())
            membership = await enrol_member(
                conn,
                org_id=org,
                email="kate@acme.example",
                user_id=None,
                role="member",
                status="active",
                source="csv",
                actor="test",
                now=clock(),
            )
        return membership.id
    finally:
        await conn.close()


async def claimed_by(database_url: str, membership: uuid.UUID) -> uuid.UUID | None:
    conn = await db.connect(database_url)
    try:
        user: uuid.UUID | None = await conn.fetchval(
            "SELECT user_id FROM memberships WHERE id = $1", membership
        )
        return user
    finally:
        await conn.close()


@pytest.mark.parametrize(("name", "email", "named"), LOOK_ALIKES, ids=IDS)
async def test_a_verified_look_alike_address_is_refused_and_claims_nothing(
    client: httpx.AsyncClient,
    idp: HostileIdP,
    database_url: str,
    clock: FakeClock,
    name: str,
    email: str,
    named: str,
) -> None:
    """A provider verifies an address that only looks like kate's: before, the Kelvin
    sign's sign-in claimed her membership, and the others became accounts shown as
    kate@acme.example. The sign-in is refused, the audit names the e-mail claim, and her
    membership stays unclaimed."""
    membership = await enrol_kate(database_url, clock)
    idp.mode = {"email": email}
    await assert_refused(client, database_url, await authorize(client), "email_not_plain")
    assert await claimed_by(database_url, membership) is None
    conn = await db.connect(database_url)
    try:
        detail = await conn.fetchval(
            "SELECT data->>'detail' FROM audit_events WHERE action = 'signin.refused'"
            " ORDER BY seq DESC LIMIT 1"
        )
    finally:
        await conn.close()
    assert detail.startswith("email: ")
    assert named in detail


async def test_the_plain_address_in_any_case_claims_the_membership(
    client: httpx.AsyncClient, idp: HostileIdP, database_url: str, clock: FakeClock
) -> None:
    membership = await enrol_kate(database_url, clock)
    idp.mode = {"email": "Kate@ACME.example"}
    response = await client.get(await authorize(client))
    assert response.status_code == 303, response.text
    assert await claimed_by(database_url, membership) is not None
