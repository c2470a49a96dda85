"""A sign-in completes only in the browser that started it, and a new identity joins a
signed-in account only when that browser confirms it and it names the same person.

Each test plays both people with separate HTTP clients (separate cookie jars, at idsvc and
at the demo provider), over real HTTP on loopback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.policy.model import PolicySettings
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.signin import choose_persona, confirm_link, sign_in

US_ONLY = "https://api.example.com/us-persons-only"
POLICY = PolicySettings(id="us-only", version=1, audience=US_ONLY, entitlements=("invoke",))


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,)) as (url, _):
        yield url


@pytest.fixture
async def attacker(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


@pytest.fixture
async def victim(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


class Counts:
    """What a refused sign-in must not have created."""

    TABLES = ("sessions", "identities", "attestations", "users")

    def __init__(self, database_url: str) -> None:
        self.url = database_url

    async def __call__(self) -> dict[str, int]:
        conn = await db.connect(self.url)
        try:
            return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in self.TABLES}
        finally:
            await conn.close()

    async def refusals(self) -> list[str]:
        conn = await db.connect(self.url)
        try:
            rows = await conn.fetch(
                "SELECT data FROM audit_events WHERE action = 'signin.refused' ORDER BY seq"
            )
            return [row["data"]["reason"] for row in rows]
        finally:
            await conn.close()


@pytest.fixture
def counts(database_url: str) -> Counts:
    return Counts(database_url)


async def provider_step(client: httpx.AsyncClient, persona: str) -> str:
    """Start a sign-in in ``client`` and pass the provider's page as ``persona``; returns
    the callback URL (not yet opened)."""
    start = await client.get("/login/demo")
    assert start.status_code == 303, start.text
    return await choose_persona(client, start.headers["location"], persona)


async def me(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.get("/v1/me")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def us_only_token(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get("/me")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    return await client.post(
        "/v1/eligibility-tokens", json={"audience": US_ONLY}, headers={"x-csrf-token": csrf}
    )


async def test_control_the_starting_browser_completes_its_own_sign_in(
    victim: httpx.AsyncClient, counts: Counts
) -> None:
    start = await victim.get("/login/demo")
    cookie = start.headers["set-cookie"]
    assert cookie.startswith("idsvc_signin=")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Max-Age=600" in cookie
    assert "Path=/" in cookie
    callback = await victim.get(
        await choose_persona(victim, start.headers["location"], "us-citizen")
    )
    assert callback.status_code == 303, callback.text
    # The binding is spent: the cookie is cleared with the session cookie set.
    cleared = [c for c in callback.headers.get_list("set-cookie") if c.startswith("idsvc_signin=")]
    assert len(cleared) == 1
    assert "Max-Age=0" in cleared[0]
    assert (await me(victim))["us_person"] is not None
    assert (await us_only_token(victim)).status_code == 201
    assert await counts.refusals() == []


async def test_login_csrf_the_attackers_callback_in_the_victims_browser(
    attacker: httpx.AsyncClient, victim: httpx.AsyncClient, counts: Counts
) -> None:
    await sign_in(victim, "dual-national")
    victim_before = await me(victim)
    before = await counts()
    # The attacker completes the provider step as himself and makes the victim's browser
    # open the callback (a link, an image, a redirect).
    callback = await provider_step(attacker, "foreign-national")
    refused = await victim.get(callback)
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"] == "urn:idsvc:problem:state_not_bound"
    # Nothing was created, and the victim is still signed in as herself.
    assert await counts() == before
    assert await me(victim) == victim_before
    assert await counts.refusals() == ["state_not_bound"]


async def test_login_csrf_against_a_browser_that_is_not_signed_in(
    attacker: httpx.AsyncClient, victim: httpx.AsyncClient, counts: Counts
) -> None:
    before = await counts()
    refused = await victim.get(await provider_step(attacker, "us-citizen"))
    assert refused.status_code == 400
    assert await counts() == before
    assert (await victim.get("/v1/me")).status_code == 401
    assert await counts.refusals() == ["state_not_bound"]


async def test_a_foreign_national_cannot_have_a_citizen_complete_his_link(
    attacker: httpx.AsyncClient, victim: httpx.AsyncClient, counts: Counts
) -> None:
    """The reported bypass: a signed-in foreign national starts a sign-in and hands the
    provider URL to a U.S. citizen, who signs in with it."""
    await sign_in(attacker, "foreign-national")
    assert (await us_only_token(attacker)).status_code == 403
    before = await counts()
    start = await attacker.get("/login/demo")
    # The citizen opens the provider URL in her own browser and signs in there.
    callback = await choose_persona(victim, start.headers["location"], "us-citizen")
    refused = await victim.get(callback)
    assert refused.status_code == 400
    assert refused.json()["reason"] == "state_not_bound"
    assert await counts() == before
    assert (await me(attacker))["us_person"] is None
    assert (await us_only_token(attacker)).status_code == 403
    assert await counts.refusals() == ["state_not_bound"]


async def test_a_callback_handed_back_to_the_linking_browser_is_refused_by_the_person_check(
    attacker: httpx.AsyncClient, victim: httpx.AsyncClient, counts: Counts
) -> None:
    """Collusion: the citizen even hands the callback URL back to the foreign national's
    browser, which confirms the link. The identity names another person: refused."""
    await sign_in(attacker, "foreign-national")
    before = await counts()
    start = await attacker.get("/login/demo")
    callback = await choose_persona(victim, start.headers["location"], "us-citizen")
    refused = await attacker.get(callback)
    assert refused.status_code == 400
    assert refused.json()["reason"] == "person_mismatch"
    assert await counts() == before
    assert (await attacker.get("/link")).status_code == 404  # nothing left to confirm
    assert (await me(attacker))["us_person"] is None
    assert (await us_only_token(attacker)).status_code == 403
    assert await counts.refusals() == ["person_mismatch"]


async def test_a_stolen_callback_url_replayed_in_a_fresh_browser(
    service: str, victim: httpx.AsyncClient, counts: Counts
) -> None:
    callback = await provider_step(victim, "us-citizen")
    # The URL leaks (a log, a referrer, a shoulder) and the attacker opens it first.
    async with httpx.AsyncClient(base_url=service, timeout=10) as fresh:
        refused = await fresh.get(callback)
        assert refused.status_code == 400
        assert (await fresh.get("/v1/me")).status_code == 401
    assert await counts() == {"sessions": 0, "identities": 0, "attestations": 0, "users": 0}
    # A response that left its browser is spent: its owner starts again.
    spent = await victim.get(callback)
    assert spent.status_code == 400
    assert spent.json()["reason"] == "state_invalid"
    assert await counts() == {"sessions": 0, "identities": 0, "attestations": 0, "users": 0}
    assert (await sign_in(victim, "us-citizen")).status_code == 303
    assert (await me(victim))["us_person"] is not None
    assert await counts.refusals() == ["state_not_bound", "state_invalid"]


async def test_a_callback_relayed_back_after_the_citizen_opened_it_is_spent(
    attacker: httpx.AsyncClient, victim: httpx.AsyncClient, counts: Counts
) -> None:
    """The foreign national's account has no verified person to compare (a company
    sign-in only); the citizen's refused callback URL is relayed back to his browser."""
    await sign_in(attacker, "email-only")
    before = await counts()
    start = await attacker.get("/login/demo")
    callback = await choose_persona(victim, start.headers["location"], "us-citizen")
    assert (await victim.get(callback)).status_code == 400
    relayed = await attacker.get(callback)
    assert relayed.status_code == 400
    assert relayed.json()["reason"] == "state_invalid"
    assert (await attacker.get("/link")).status_code == 404
    assert await counts() == before
    assert (await us_only_token(attacker)).status_code == 403


async def test_junk_callbacks_any_site_can_trigger_leave_a_waiting_link_alone(
    victim: httpx.AsyncClient,
) -> None:
    await sign_in(victim, "email-only")
    await sign_in(victim, "us-citizen")  # waiting for confirmation
    for junk in ("/oidc/callback/demo?state=junk&code=x", "/oidc/callback/demo"):
        refused = await victim.get(junk)
        assert refused.status_code == 400
        assert not any(
            c.startswith("idsvc_signin=") for c in refused.headers.get_list("set-cookie")
        )
    assert (await victim.get("/link")).status_code == 200


async def test_a_browser_with_its_own_sign_in_under_way_keeps_it(
    attacker: httpx.AsyncClient, victim: httpx.AsyncClient
) -> None:
    victims_own = await provider_step(victim, "us-citizen")
    refused = await victim.get(await provider_step(attacker, "foreign-national"))
    assert refused.status_code == 400
    # The refused callback did not clear the victim's binding cookie.
    assert not any(c.startswith("idsvc_signin=") for c in refused.headers.get_list("set-cookie"))
    assert (await victim.get(victims_own)).status_code == 303
    assert (await me(victim))["us_person"] is not None


async def test_linking_shows_what_it_adds_and_waits_for_the_browser(
    victim: httpx.AsyncClient, counts: Counts
) -> None:
    await sign_in(victim, "email-only")
    before = await counts()
    pending = await sign_in(victim, "us-citizen")
    assert pending.status_code == 303
    assert pending.headers["location"].startswith("/link")
    assert await counts() == before  # nothing linked yet
    page = await victim.get("/link", headers={"accept": "text/html"})
    assert page.status_code == 200
    # Whose account it is, so a person in a planted session sees it is not theirs.
    assert "signed in here as\n<strong>sam@example.com</strong>" in page.text
    assert "alice@example.com" in page.text
    assert "U.S.-person basis" in page.text
    assert "citizen" in page.text
    # Without the session's CSRF token the answer is refused and the link still waits.
    forged = await victim.post("/link", data={"decision": "link", "csrf_token": "x"})
    assert forged.status_code == 403
    linked = await confirm_link(victim, pending)
    assert linked.status_code == 303
    assert (await me(victim))["us_person"] is not None
    after = await counts()
    assert after["identities"] == before["identities"] + 1
    assert after["users"] == before["users"]


async def test_a_cancelled_link_adds_nothing(victim: httpx.AsyncClient, counts: Counts) -> None:
    await sign_in(victim, "email-only")
    before = await counts()
    await sign_in(victim, "us-citizen")
    page = await victim.get("/link", headers={"accept": "text/html"})
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    cancelled = await victim.post("/link", data={"decision": "cancel", "csrf_token": csrf})
    assert cancelled.status_code == 303
    assert await counts() == before
    assert (await me(victim))["us_person"] is None
    assert (await victim.get("/link")).status_code == 404


async def test_another_browser_of_the_same_account_cannot_answer_the_link(
    service: str, victim: httpx.AsyncClient, counts: Counts
) -> None:
    await sign_in(victim, "email-only")
    await sign_in(victim, "us-citizen")  # waiting for confirmation in the victim's browser
    before = await counts()
    async with httpx.AsyncClient(base_url=service, timeout=10) as other:
        # The same account signed in elsewhere (its session cookie, not the binding).
        other.cookies.set("idsvc_session", victim.cookies["idsvc_session"])
        assert (await other.get("/link")).status_code == 404
        page = await victim.get("/me")
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        refused = await other.post("/link", data={"decision": "link", "csrf_token": csrf})
        assert refused.status_code == 400
    assert await counts() == before
    assert await counts.refusals() == ["link_expired"]
    assert (await victim.get("/link")).status_code == 200  # still the victim's to answer


async def test_a_signed_out_browser_cannot_finish_a_link_it_started(
    victim: httpx.AsyncClient, counts: Counts
) -> None:
    await sign_in(victim, "email-only")
    callback = await provider_step(victim, "us-citizen")
    page = await victim.get("/me")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    await victim.post("/logout", data={"csrf_token": csrf})
    before = await counts()
    refused = await victim.get(callback)
    assert refused.status_code == 400
    assert refused.json()["reason"] == "link_session_changed"
    assert await counts() == before


async def test_the_same_person_from_a_second_identity_links(
    victim: httpx.AsyncClient, database_url: str
) -> None:
    """Two proofed identities of one person (same verified name and birth date) link;
    the control case for the person check."""
    await sign_in(victim, "us-citizen")
    conn = await db.connect(database_url)
    try:
        # Move Alice's identity to another subject so that signing in as her again is a
        # second identity of the same person.
        await conn.execute("UPDATE identities SET subject = 'alice-at-another-provider'")
    finally:
        await conn.close()
    linked = await confirm_link(victim, await sign_in(victim, "us-citizen"))
    assert linked.status_code == 303
    assert (await me(victim))["us_person"] is not None
