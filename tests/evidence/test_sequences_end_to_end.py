"""Issue 24's defects, each as the adversary tried it: the same person signing in twice at
a real OpenID provider on loopback (the hostile test provider), lists imported between two
events, the service over HTTP with screening required (its default)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from idsvc import db
from idsvc.app import create_app
from idsvc.policy.model import PolicySettings
from idsvc.settings import ScreeningSettings
from tests.support.clock import FakeClock
from tests.support.hostile_idp import (
    CLIENT_SECRET,
    HostileIdP,
    hostile_provider,
    running_hostile_idp,
)
from tests.support.screening import import_demo_list
from tests.support.serving import free_port, serve_in_thread
from tests.support.settings import make_settings

MODEL = "https://api.example.com/model"
DENY_CN = PolicySettings(
    id="deny-cn", version=1, audience=MODEL, deny_nationalities=("CN",), entitlements=("use",)
)
SDN = "Specially Designated Nationals (SDN) - Treasury Department"


def listed(*entries: dict[str, Any]) -> bytes:
    padding = [
        {"id": f"pad-{i}", "name": f"Padding Shipping Company {i}", "type": "Entity",
         "source": SDN}
        for i in range(9)
    ]  # fmt: skip
    results = [*entries, *padding]
    return json.dumps({"total": len(results), "results": results}).encode()


DANA = {"id": "sdn-77", "name": "DUAL, Dana Petrovna", "type": "Individual", "source": SDN}


@pytest.fixture
def clock() -> FakeClock:
    # The hostile provider stamps tokens with the wall clock; keep idsvc on the same time.
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def idp() -> Iterator[HostileIdP]:
    with running_hostile_idp() as hostile:
        yield hostile


@pytest.fixture
def service(idp: HostileIdP, database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    port = free_port()
    settings = make_settings(
        database_url, tmp_path, issuer=f"http://127.0.0.1:{port}", cookie_secure=False,
        policies=(DENY_CN,), screening=ScreeningSettings(),  # the default: required
    )  # fmt: skip
    provider = hostile_provider(idp, assurance_map={"IAL1": "IAL1", "IAL2": "IAL2"})
    app = create_app(settings, clock=clock, extra_providers=((provider, CLIENT_SECRET),))
    with serve_in_thread(app, port=port) as base_url:
        yield base_url


@pytest.fixture
async def client(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


async def sign_in(client: httpx.AsyncClient) -> httpx.Response:
    start = await client.get("/login/hostile")
    assert start.status_code == 303
    answer = await client.get(start.headers["location"])
    assert answer.status_code == 303
    return await client.get(answer.headers["location"])


async def token(client: httpx.AsyncClient) -> httpx.Response:
    csrf = (await client.get("/v1/me")).json()["csrf_token"]
    return await client.post(
        "/v1/eligibility-tokens", json={"audience": MODEL}, headers={"x-csrf-token": csrf}
    )


async def import_list(database_url: str, data: bytes, at: datetime) -> None:
    conn = await db.connect(database_url)
    try:
        await import_demo_list(conn, at, data)
    finally:
        await conn.close()


def named(given: str, family: str) -> dict[str, str]:
    return {"given_name": given, "family_name": family}


async def test_a_dual_national_does_not_shed_a_denied_nationality_by_re_proofing(
    client: httpx.AsyncClient, idp: HostileIdP, database_url: str, clock: FakeClock
) -> None:
    """Defect 1: refused as a U.S./CN dual national, she signs in again with her U.S.
    passport only. The new attestation supersedes the one naming CN; CN still counts."""
    await import_list(database_url, listed(), clock())
    idp.mode = {"nationalities": ["USA", "CHN"], "verified_name": named("Mei", "Chen")}
    assert (await sign_in(client)).status_code == 303
    refused = await token(client)
    assert refused.status_code == 403
    assert refused.json()["reasons"] == ["nationality_denied"]
    idp.mode = {"nationalities": ["USA"], "verified_name": named("Mei", "Chen")}
    assert (await sign_in(client)).status_code == 303
    still = await token(client)
    assert still.status_code == 403, still.text
    assert still.json()["reasons"] == ["nationality_denied"]
    # She finds on her own page the nationality that still counts, and why it is there.
    shown = [(a["values"], a["state"]) for a in (await client.get("/v1/me")).json()["attestations"]
             if a["kind"] == "nationalities"]  # fmt: skip
    assert sorted(shown) == [("CN, US", "superseded"), ("US", "valid")]


async def test_a_hold_ends_by_a_decision_not_by_a_shorter_name(
    client: httpx.AsyncClient, idp: HostileIdP, database_url: str, clock: FakeClock
) -> None:
    """Defect 2: a held person signs in again and the provider now verifies her name
    without the patronymic; the next import must not clear the hold."""
    await import_list(database_url, listed(DANA), clock())
    idp.mode = {"verified_name": named("Dana Petrovna", "Dual")}
    assert (await sign_in(client)).status_code == 303
    assert (await token(client)).json()["reasons"] == ["screening_review"]
    idp.mode = {"verified_name": named("Dana", "Dual")}
    await sign_in(client)  # accepted or refused as another person: the hold stays either way
    clock.advance(60)
    await import_list(database_url, listed(DANA), clock())
    held = await token(client)
    assert held.status_code == 403
    assert held.json()["reasons"] == ["screening_review"]
    conn = await db.connect(database_url)
    try:
        assert await conn.fetchval("SELECT state FROM person_screening_hits") == "open"
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("case", "mode", "list_age_days", "granted"),
    [
        ("no list was ever imported", {"verified_name": named("Ann", "Lee")}, None, False),
        ("the list is older than max_list_age", {"verified_name": named("Ann", "Lee")}, 15, False),
        ("the list is current", {"verified_name": named("Ann", "Lee")}, 1, True),
        # The name outside verified_claims is screened too (not evidence, but screened).
        ("a name only outside verified_claims", {"id_token_extra": {"name": "Ann Lee"}}, 1, True),
        ("no name at all", {}, 1, False),
    ],
)
async def test_nobody_gets_a_token_unscreened(
    client: httpx.AsyncClient,
    idp: HostileIdP,
    database_url: str,
    clock: FakeClock,
    case: str,
    mode: dict[str, Any],
    list_age_days: int | None,
    granted: bool,
) -> None:
    """Defect 3: before, each of these was issued a token."""
    if list_age_days is not None:
        await import_list(database_url, listed(), clock() - timedelta(days=list_age_days))
    idp.mode = mode
    assert (await sign_in(client)).status_code == 303
    answer = await token(client)
    if granted:
        assert answer.status_code == 201, (case, answer.text)
    else:
        assert answer.status_code == 403, (case, answer.text)
        assert answer.json()["reasons"] == ["screening_unavailable"], case
        assert "cannot be confirmed" in answer.json()["explanations"][0]["explanation"]


def _element(**claims: Any) -> dict[str, Any]:
    verified = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86_400))
    return {
        "verification": {"trust_framework": "nist_800_63A", "assurance_level": "IAL2",
                         "time": verified},
        "claims": claims,
    }  # fmt: skip


@pytest.mark.parametrize(
    "verified_claims",
    [
        # An element naming IR without its verification (before: ignored, the rest granted).
        [_element(nationalities=["USA"], us_person_basis="citizen"),
         {"claims": {"nationalities": ["IRN"]}}],
        [_element(nationalities=["USA"], us_person_basis="citizen"), "IRN"],
        # The same, not in an array.
        {"claims": {"nationalities": ["IRN"]}},
    ],
    ids=["element-without-verification", "element-not-an-object", "single-without-verification"],
)  # fmt: skip
async def test_a_malformed_verification_refuses_the_whole_sign_in(
    client: httpx.AsyncClient, idp: HostileIdP, database_url: str, verified_claims: Any
) -> None:
    """Defect 5."""
    idp.mode = {"verified_claims": verified_claims}
    refused = await sign_in(client)
    assert refused.status_code == 400, refused.text
    assert "evidence_incomplete" in refused.text
    conn = await db.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM attestations") == 0
        assert await conn.fetchval("SELECT count(*) FROM sessions") == 0
    finally:
        await conn.close()
