"""Four eyes in the console (real Chromium, axe-core): an erasure despite the retention
period proposed by one operator waits under Decisions, where its proposer cannot approve it
and a second operator does; with four eyes waived (development) every operator page says
so."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, expect

from idsvc.settings import ComplianceSettings
from tests.support.demo import demo_service
from tests.support.signin import open_signed_in_page
from tests.support.web import assert_accessible

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from idsvc import db
    from tests.support.clock import FakeClock

pytestmark = pytest.mark.slow

SAM = "demo:demo-0a6b3c88-email-only"  # Sam Staff
PABLO = "demo:demo-2b9e4d71-permanent-resident"  # Pablo Resident
WAIVED_BANNER = "four eyes is off"


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(
        database_url, tmp_path, clock, operators=(SAM, PABLO), compliance=ComplianceSettings()
    ) as (url, _):
        yield url


async def test_an_erasure_despite_retention_takes_a_second_operator(
    browser: Browser, service: str, screenshots: Path, pool: db.Pool
) -> None:
    person, _ = await open_signed_in_page(browser, service, "Frieda National")
    await person.close()
    frieda = await pool.fetchval(
        "SELECT user_id FROM identities WHERE subject = 'demo-c4a85e13-foreign-national'"
    )
    assert frieda is not None

    sam, page = await open_signed_in_page(
        browser, service, "Sam Staff", start=f"/console/users/{frieda}"
    )
    await expect(page.get_by_text(WAIVED_BANNER)).to_have_count(0)
    erase = page.locator("form[action$='/erase']")
    await erase.get_by_label("Reason (recorded; a case number, never a name or address)").fill(
        "request of the person, case 2026-118"
    )
    await erase.get_by_label("Type the user id to confirm").fill(str(frieda))
    await erase.get_by_label("No retention duty applies").check()
    await erase.get_by_role("button", name="Erase this person").click()
    await expect(
        page.get_by_text("Proposed: it takes effect when another operator")
    ).to_be_visible()
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", frieda) == "active"
    await page.get_by_role("status").get_by_role("link", name="Decisions").click()
    await expect(
        page.get_by_role("heading", name="Erase a person despite the retention period")
    ).to_be_visible()
    await expect(
        page.get_by_text("You proposed this: another operator approves it.")
    ).to_be_visible()
    await expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    await assert_accessible(page)
    await sam.close()

    pablo, page = await open_signed_in_page(
        browser, service, "Pablo Resident", start="/console/decisions"
    )
    await expect(page.get_by_text("request of the person, case 2026-118")).to_be_visible()
    await page.screenshot(path=str(screenshots / "console-decisions.png"), full_page=True)
    label = "Your reason for approving (what you checked; 20 to 200 characters, no names)"
    await page.get_by_label(label).fill("short")
    await page.get_by_role("button", name="Approve").click()
    await expect(page.get_by_text("at least 20")).to_be_visible()  # the form's own refusal
    await assert_accessible(page)
    await page.get_by_label(label).fill("no retention duty: case 2026-118 closed")
    await page.get_by_role("button", name="Approve").click()
    await expect(page.get_by_text("Approved: the decision took effect.")).to_be_visible()
    await expect(page.get_by_text("Nothing waits for a second operator.")).to_be_visible()
    await assert_accessible(page)
    await pablo.close()
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", frieda) == "erased"
    approved = await pool.fetchval(
        "SELECT data->>'proposed_by' FROM audit_events WHERE action = 'four_eyes.approved'"
    )
    assert approved is not None
    assert approved.startswith("user:")


@pytest.fixture
def waived_service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, operators=(SAM,)) as (url, settings):
        assert not settings.config.compliance.four_eyes  # as `idsvc dev` runs
        yield url


async def test_a_waived_deployment_says_so_on_every_operator_page(
    browser: Browser, waived_service: str
) -> None:
    context, page = await open_signed_in_page(
        browser, waived_service, "Sam Staff", start="/console/decisions"
    )
    await expect(page.get_by_text(WAIVED_BANNER)).to_be_visible()
    await page.get_by_role("link", name="Users", exact=True).click()
    await expect(page.get_by_text(WAIVED_BANNER)).to_be_visible()
    await assert_accessible(page)
    await context.close()
