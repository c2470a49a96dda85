"""Signing in through the demo provider in a real browser, as a newcomer would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.web import assert_accessible

# Slow tier: `make test` runs it, `make test-fast` leaves it out.
# A real Chromium (Playwright) through the pages.
pytestmark = pytest.mark.slow


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock) as (base_url, _):
        yield base_url


PERSONAS = [
    ("Alice Citizen", "Verified U.S. person (U.S. citizen)"),
    ("Pablo Resident", "Verified U.S. person (lawful permanent resident)"),
    ("Frieda National", "U.S.-person status is not verified"),
]


@pytest.mark.parametrize(("persona", "expected"), PERSONAS)
async def test_persona_signs_in_through_the_pages(
    browser: Browser, service: str, screenshots: Path, persona: str, expected: str
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{service}/login")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    await page.get_by_role("link", name="Sign in with the demo identity provider").click()
    # The demo provider says on every page that it is a demo.
    await expect(
        page.get_by_text("Demo identity provider — not for real identities")
    ).to_be_visible()
    await page.get_by_role("button", name=f"Continue as {persona}").click()
    await expect(page).to_have_url(f"{service}/me")
    await expect(page.get_by_text(expected)).to_be_visible()
    await expect(page.get_by_role("table")).to_contain_text("Nationalities")
    slug = persona.split(maxsplit=1)[0].lower()
    await page.screenshot(path=str(screenshots / f"status-{slug}.png"), full_page=True)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{service}/login")
    await context.close()


async def test_sign_in_by_keyboard_alone(browser: Browser, service: str) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{service}/login")
    link = page.get_by_role("link", name="Sign in with the demo identity provider")
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await link.evaluate("element => element === document.activeElement"):
            break
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Continue as Alice Citizen")).to_be_visible()
    await context.close()


async def test_refusal_page_tells_the_person_what_to_do(
    browser: Browser, service: str, screenshots: Path
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{service}/login")
    await page.get_by_role("link", name="Sign in with the demo identity provider").click()
    await page.get_by_role("button", name="Cancel and return without signing in").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sign-in was cancelled or refused"
    )
    await expect(page.get_by_text("Try again, or choose another provider.")).to_be_visible()
    await page.screenshot(path=str(screenshots / "signin-refused.png"), full_page=True)
    await context.close()


async def test_linking_a_provider_asks_the_person_first(
    browser: Browser, service: str, screenshots: Path
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{service}/login")
    await page.get_by_role("link", name="Sign in with the demo identity provider").click()
    await page.get_by_role("button", name="Continue as Sam Staff").click()
    await expect(page.get_by_text("U.S.-person status is not verified")).to_be_visible()
    await page.get_by_role("link", name="Verify with the demo identity provider").click()
    await page.get_by_role("button", name="Continue as Alice Citizen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Link this identity to your account?"
    )
    await expect(page.get_by_role("table")).to_contain_text("U.S.-person basis")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshots / "link-confirm.png"), full_page=True)
    await page.get_by_role("button", name="Link this identity").click()
    await expect(page).to_have_url(f"{service}/me")
    await expect(page.get_by_text("Verified U.S. person (U.S. citizen)")).to_be_visible()
    await context.close()
