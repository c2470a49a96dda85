"""Operators work from the browser alone: users and attestations, policies, keys, audit.
Everyone else is refused. Every page passes axe-core without serious violations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from idsvc import db
from idsvc.orgs.vetting.organisations import get_organisation
from idsvc.orgs.vetting.screening_hits import screen_organisation
from idsvc.policy.model import PolicySettings
from idsvc.rescreening.importing import import_list
from idsvc.screening.csl import parse_csl
from idsvc.screening.list_files import parse_list
from idsvc.screening.lists import import_snapshot
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.factories import create_org
from tests.support.signin import open_signed_in_page
from tests.support.web import assert_accessible

# Slow tier: `make test` runs it, `make test-fast` leaves it out.
# A real Chromium (Playwright) through the console.
pytestmark = pytest.mark.slow

OPERATOR = "demo:demo-0a6b3c88-email-only"  # the e-mail-only persona acts as the operator
# A second operator, for decisions that need four eyes.
SECOND_OPERATOR = "demo:demo-2b9e4d71-permanent-resident"
MODEL = "https://api.example.com/mythos-5"
POLICY = PolicySettings(
    id="mythos-5",
    version=2,
    audience=MODEL,
    entitlements=("model:invoke",),
    deny_nationality_groups=("E:1",),
)


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    operators = (OPERATOR, SECOND_OPERATOR)
    with demo_service(database_url, tmp_path, clock, operators=operators, policies=(POLICY,)) as (
        url,
        _,
    ):
        yield url


async def test_an_operator_finds_a_user_checks_policy_and_revokes_an_attestation(
    browser: Browser, service: str, screenshots: Path
) -> None:
    citizen, _ = await open_signed_in_page(browser, service, "Alice Citizen")
    await citizen.close()
    context, page = await open_signed_in_page(browser, service, "Sam Staff", start="/console/users")
    # Brought back to the page asked for, after signing in.
    await expect(page).to_have_url(f"{service}/console/users")
    # The demo decides on the shipped groups, which nobody has signed off.
    await expect(page.get_by_role("note").filter(has_text="not signed off")).to_be_visible()
    await assert_accessible(page)
    await page.get_by_label("E-mail (beginning) or user id").fill("alice")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name="alice@example.com").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("alice@example.com")
    await expect(page.get_by_text("eligible", exact=True)).to_be_visible()
    await assert_accessible(page)
    await page.screenshot(path=str(screenshots / "console-user.png"), full_page=True)
    user_id = page.url.rsplit("/", 1)[1]

    # A reason that is too short is refused next to the field, keeping what was typed.
    basis = page.locator(
        "section", has=page.get_by_role("heading", name="U.S.-person basis: citizen")
    )
    form = basis.locator("form")
    await form.get_by_label("Reason to revoke").fill("short")
    await form.get_by_role("button", name="Revoke").click()
    await expect(page.get_by_text("Too short: at least 10 characters.")).to_be_visible()
    await expect(page.locator("textarea[aria-invalid=true]")).to_have_value("short")
    await assert_accessible(page)
    await form.get_by_label("Reason to revoke").fill("document reported stolen by the issuer")
    await form.get_by_role("button", name="Revoke").click()
    await expect(basis.get_by_text("document reported stolen by the issuer")).to_be_visible()
    await expect(page.get_by_text("not eligible")).to_be_visible()

    await page.get_by_role("link", name="Policies").click()
    await assert_accessible(page)
    await page.get_by_label("User id").fill(user_id)
    await page.get_by_role("button", name="Check").click()
    await expect(page.get_by_role("status")).to_contain_text("Denied under mythos-5@2")
    await page.screenshot(path=str(screenshots / "console-policies.png"), full_page=True)
    await page.get_by_label("User id").fill("not-a-uuid")
    await page.get_by_role("button", name="Check").click()
    await expect(page.locator("#f-user-error")).to_be_visible()
    await context.close()


async def test_keys_rotate_and_emergency_needs_a_second_confirmation(
    browser: Browser, service: str, screenshots: Path
) -> None:
    context, page = await open_signed_in_page(browser, service, "Sam Staff", start="/console/keys")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Signing keys")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshots / "console-keys.png"), full_page=True)
    current = page.get_by_role("row").filter(has_text="current").first
    kid = (await current.locator("code").inner_text()).strip()

    emergency = page.locator("form[action='/console/keys/emergency']")
    await emergency.get_by_label("Reason (recorded in the audit trail)").fill(
        "key file found on a laptop"
    )
    await emergency.get_by_label("Type the current key's kid to confirm").fill("wrong-kid")
    await emergency.get_by_role("button", name="Drop the current key now").click()
    await expect(page.get_by_text("Type the kid of the current key exactly")).to_be_visible()
    await expect(page.get_by_label("Reason (recorded in the audit trail)")).to_have_value(
        "key file found on a laptop"
    )
    jwks_before = await page.request.get(f"{service}/.well-known/jwks.json")
    assert kid in await jwks_before.text()

    emergency = page.locator("form[action='/console/keys/emergency']")
    await emergency.get_by_label("Type the current key's kid to confirm").fill(kid)
    await emergency.get_by_role("button", name="Drop the current key now").click()
    await expect(page.get_by_text("Emergency rotation done")).to_be_visible()
    jwks_after = await page.request.get(f"{service}/.well-known/jwks.json")
    assert kid not in await jwks_after.text()
    await context.close()


async def test_audit_trail_filters_verifies_and_exports(
    browser: Browser, service: str, screenshots: Path
) -> None:
    context, page = await open_signed_in_page(browser, service, "Sam Staff", start="/console/audit")
    await assert_accessible(page)
    await page.get_by_label("Action starts with").fill("signin.")
    await page.get_by_role("button", name="Filter").click()
    rows = page.get_by_role("row")
    await expect(rows.nth(1)).to_contain_text("signin.")
    await page.screenshot(path=str(screenshots / "console-audit.png"), full_page=True)
    link = page.get_by_role("link", name="Export these events (JSON lines)")
    exported = await page.request.get(f"{service}{await link.get_attribute('href')}")
    assert exported.status == 200, await exported.text()
    assert exported.headers["content-disposition"].startswith("attachment")
    lines = (await exported.text()).splitlines()
    assert lines
    assert all('"action":"signin.' in line for line in lines)
    await page.get_by_label("From (UTC)").fill("yesterday")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator("#f-since-error")).to_be_visible()
    await page.get_by_role("button", name="Verify the hash chain").click()
    await expect(page.get_by_text("The chain is whole")).to_be_visible()
    await context.close()


async def test_people_who_are_not_operators_are_refused_every_operator_page(
    browser: Browser, service: str
) -> None:
    context, page = await open_signed_in_page(browser, service, "Alice Citizen")
    for path in (
        "/console/users",
        "/console/keys",
        "/console/audit",
        "/console/policies",
        "/console/audit/export",
    ):
        response = await page.goto(f"{service}{path}")
        assert response is not None
        assert response.status == 403, path
        await expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    rotate = await page.request.post(
        f"{service}/console/keys/rotate", form={"alg": "ES256", "csrf_token": "x"}
    )
    assert rotate.status == 403
    await assert_accessible(page)
    await context.close()


async def test_an_operator_approves_an_organisation_by_overriding_its_screening_hit(
    browser: Browser, service: str, screenshots: Path, pool: db.Pool, clock: FakeClock
) -> None:
    sample = Path(__file__).parents[1] / "screening" / "fixtures" / "csl_sample.csv"
    data = sample.read_bytes()
    async with db.transaction(pool) as conn:
        org_id = await create_org(
            conn, clock(), status="pending", name="Volga Precision Instruments LLC"
        )
        await import_snapshot(conn, data=data, rows=parse_csl(data), actor="test", now=clock())
        outcome = await screen_organisation(
            conn, await get_organisation(conn, org_id), threshold=88, actor="test", now=clock()
        )
    assert outcome.open_hits, "the fixture list names this organisation"
    context, page = await open_signed_in_page(browser, service, "Sam Staff", start="/console/orgs")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Organisations")
    # The list's age, where approvals are decided (they need a current list).
    await expect(page.get_by_text("Restricted-party list: imported")).to_be_visible()
    await assert_accessible(page)
    await page.get_by_role("link", name="Volga Precision Instruments LLC").click()
    await expect(page.get_by_role("cell", name="Volga Precision Instruments OOO")).to_be_visible()
    await assert_accessible(page)
    await page.screenshot(path=str(screenshots / "console-org-screening.png"), full_page=True)
    decide = page.locator("form[action$='/status']")
    await decide.get_by_label("New state").select_option("approved")
    await decide.get_by_label("Reason (recorded, shown to the organisation's admins)").fill(
        "documents checked"
    )
    await decide.get_by_role("button", name="Record the decision").click()
    await expect(page.get_by_role("alert")).to_contain_text("open restricted-party screening hit")
    override = page.locator("form[action*='/override']").first
    await override.get_by_label(
        "Why this is not the listed party (recorded; at least 20 characters)"
    ).fill("too short")
    await override.get_by_role("button", name="Override this hit").click()
    await expect(page.get_by_text("Too short: at least 20 characters.")).to_be_visible()
    override = page.locator("form[action*='/override']").first
    await override.get_by_label(
        "Why this is not the listed party (recorded; at least 20 characters)"
    ).fill("Different company: US-incorporated, registration checked against the state registry")
    await override.get_by_role("button", name="Override this hit").click()
    await expect(page.get_by_text("Done: overridden.")).to_be_visible()

    async def approve(page: Page) -> None:
        decide = page.locator("form[action$='/status']")
        await decide.get_by_label("New state").select_option("approved")
        await decide.get_by_label("Reason (recorded, shown to the organisation's admins)").fill(
            "documents checked"
        )
        await decide.get_by_role("button", name="Record the decision").click()

    # Four eyes: whoever overrode the hit cannot also approve.
    await approve(page)
    await expect(page.get_by_role("alert")).to_contain_text("another operator must approve it")
    assert (
        await pool.fetchval("SELECT status FROM organisations WHERE id = $1", org_id) == "pending"
    )
    second, page = await open_signed_in_page(
        browser, service, "Pablo Resident", start="/console/orgs"
    )
    await page.get_by_role("link", name="Volga Precision Instruments LLC").click()
    await approve(page)
    await expect(page.get_by_text("Done: approved.")).to_be_visible()
    await second.close()
    assert (
        await pool.fetchval("SELECT status FROM organisations WHERE id = $1", org_id) == "approved"
    )
    await context.close()


async def test_an_operator_decides_a_persons_screening_hit_in_the_console(
    browser: Browser, service: str, screenshots: Path, pool: db.Pool, clock: FakeClock
) -> None:
    person, _ = await open_signed_in_page(browser, service, "Frieda National")
    await person.close()
    listed = {
        "results": [
            {"id": "sdn-1", "name": "NATIONAL, Frieda", "type": "Individual",
             "source": "Specially Designated Nationals (SDN) - Treasury Department",
             "dates_of_birth": ["1992"]},
        ]
    }  # fmt: skip
    data = json.dumps(listed).encode()
    async with db.transaction(pool) as conn:
        await import_list(
            conn, data=data, rows=parse_list(data), actor="test", now=clock(), force=True,
            max_entry_drop=0.1, threshold=88.0,
        )  # fmt: skip
    user_id = await pool.fetchval("SELECT user_id FROM person_screening_hits")
    context, page = await open_signed_in_page(
        browser, service, "Sam Staff", start=f"/console/users/{user_id}"
    )
    await expect(page.get_by_text("The person is held")).to_be_visible()
    await expect(page.get_by_text("same year as listed")).to_be_visible()
    await assert_accessible(page)
    await page.screenshot(path=str(screenshots / "console-person-hit.png"), full_page=True)
    form = page.locator("form[action*='/screening-hits/']")
    await form.get_by_label(
        "Why this is not the listed person (recorded; at least 20 characters)"
    ).fill("Different person: passport and place of birth checked by compliance")
    await form.get_by_role("button", name="Override this hit").click()
    await expect(page.get_by_text("Overridden by")).to_be_visible()
    await expect(page.get_by_text("The person is held")).to_have_count(0)
    assert await pool.fetchval("SELECT state FROM person_screening_hits") == "overridden"

    # Erasure, from the same page: the user id must be typed again.
    erase = page.locator("form[action$='/erase']")
    await erase.get_by_label("Reason (recorded; a case number, never a name or address)").fill(
        "request of the person, case 2026-118"
    )
    await erase.get_by_label("Type the user id to confirm").fill("not-the-id")
    await erase.get_by_role("button", name="Erase this person").click()
    await expect(page.get_by_text("Type the user id exactly to confirm.")).to_be_visible()
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", user_id) == "active"
    erase = page.locator("form[action$='/erase']")
    await erase.get_by_label("Reason (recorded; a case number, never a name or address)").fill(
        "request of the person, case 2026-118"
    )
    await erase.get_by_label("Type the user id to confirm").fill(str(user_id))
    await erase.get_by_role("button", name="Erase this person").click()
    # She signed in minutes ago: her records are under their retention duty.
    await expect(page.get_by_text("kept until")).to_be_visible()
    erase = page.locator("form[action$='/erase']")
    await erase.get_by_label("Reason (recorded; a case number, never a name or address)").fill(
        "request of the person, case 2026-118"
    )
    await erase.get_by_label("Type the user id to confirm").fill(str(user_id))
    await erase.get_by_label("No retention duty applies").check()
    await erase.get_by_role("button", name="Erase this person").click()
    await expect(page.get_by_text("This person was erased")).to_be_visible()
    await assert_accessible(page)
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", user_id) == "erased"
    await context.close()


async def test_operators_read_sealed_audit_values_and_the_read_is_audited(
    browser: Browser, service: str, pool: db.Pool
) -> None:
    person, _ = await open_signed_in_page(browser, service, "Frieda National")
    await person.close()
    user_id = await pool.fetchval(
        "SELECT user_id FROM identities WHERE subject = 'demo-c4a85e13-foreign-national'"
    )
    stored = await pool.fetchval(
        "SELECT data::text FROM audit_events WHERE action = 'attestation.recorded'"
        " AND target = $1 AND data->>'kind' = 'nationalities'",
        f"user:{user_id}",
    )
    assert '"DE"' not in stored  # sealed in the trail
    context, page = await open_signed_in_page(
        browser, service, "Sam Staff", start=f"/console/audit?target=user:{user_id}"
    )
    await expect(page.get_by_text('"values": ["DE"]').first).to_be_visible()  # opened
    await assert_accessible(page)
    viewed = await pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'person.attestations.viewed'"
        " AND target = $1",
        f"user:{user_id}",
    )
    assert viewed >= 1
    await context.close()
