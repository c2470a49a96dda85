"""An org admin, from the browser alone: request an organisation, then (once approved)
enrol staff from a CSV file — seeing every bad row and applying nothing first — suspend a
member with a confirmation, create a SCIM token, and read the organisation's audit trail.
Someone else cannot see the organisation's pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from idsvc import db
from idsvc.orgs.members.reviews import open_due_reviews
from idsvc.orgs.vetting.organisations import set_org_status
from idsvc.policy.model import OrgRequirement, PolicySettings
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.four_eyes import ONE_OPERATOR
from tests.support.scim import claim
from tests.support.signin import open_signed_in_page
from tests.support.web import assert_accessible

# Slow tier: `make test` runs it, `make test-fast` leaves it out.
# A real Chromium (Playwright) through the console.
pytestmark = pytest.mark.slow

POLICY = PolicySettings(
    id="ci",
    version=1,
    audience="https://api.example.com/ci-model",
    entitlements=("invoke",),
    organisation=OrgRequirement(programs=("critical-infrastructure",)),
)


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,)) as (url, _):
        yield url


async def test_an_org_admin_requests_an_org_and_enrols_staff_through_the_pages(
    browser: Browser,
    service: str,
    screenshots: Path,
    pool: db.Pool,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    context, page = await open_signed_in_page(
        browser, service, "Alice Citizen", start="/console/my-orgs"
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your organisations")
    await assert_accessible(page)
    # A mistake first: the form says what is wrong next to the field and keeps the rest.
    await page.get_by_label("Legal name").fill("Acme Analytics Inc")
    await page.get_by_label("Country of incorporation (ISO code, e.g. US)").fill("US")
    await page.get_by_label("Compliance contact e-mail").fill("compliance@acme")
    await page.get_by_role("button", name="Request").click()
    await expect(page.locator("#f-contact_email-error")).to_be_visible()
    await expect(page.get_by_label("Legal name")).to_have_value("Acme Analytics Inc")
    await page.get_by_label("Compliance contact e-mail").fill("compliance@acme.example")
    await page.get_by_label("Programs you apply for (comma-separated)").fill(
        "critical-infrastructure"
    )
    await page.get_by_role("button", name="Request").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Acme Analytics Inc")
    await expect(page.get_by_text("State: pending")).to_be_visible()
    org_id = page.url.rsplit("/", 1)[1]
    async with db.transaction(pool) as conn:
        import uuid

        await set_org_status(
            conn,
            org_id=uuid.UUID(org_id),
            status="approved",
            reason="vetted",
            actor="operator",
            now=clock(),
            four_eyes=True,
            rule=ONE_OPERATOR,
            list_max_age=None,
        )
    await page.reload()
    await assert_accessible(page)
    await page.screenshot(path=str(screenshots / "console-my-org.png"), full_page=True)

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,role\nbo@acme.example,member\nnot-an-address,member\ncy@acme.example,owner\n"
    )
    await page.get_by_label("CSV file", exact=True).set_input_files(str(bad))
    await page.get_by_role("button", name="Preview").click()
    await expect(page.get_by_role("alert")).to_contain_text("2 problem(s). Nothing was applied")
    rows = page.get_by_role("row")
    await expect(rows.nth(1)).to_contain_text("3")
    await expect(rows.nth(1)).to_contain_text("not an e-mail address")
    await expect(rows.nth(2)).to_contain_text("must be admin or member")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshots / "console-csv-errors.png"), full_page=True)
    assert await pool.fetchval("SELECT count(*) FROM memberships WHERE source = 'csv'") == 0

    await page.get_by_role("link", name="Back to the organisation").click()
    good = tmp_path / "good.csv"
    good.write_text(
        "email,role,display_name\nbo@acme.example,member,Bo\ncy@acme.example,admin,Cy\n"
    )
    await page.get_by_label("CSV file", exact=True).set_input_files(str(good))
    await page.get_by_role("button", name="Preview").click()
    await expect(page.get_by_role("status")).to_contain_text("Nothing has changed yet")
    await expect(
        page.get_by_text("add 2 member(s): bo@acme.example, cy@acme.example")
    ).to_be_visible()
    assert await pool.fetchval("SELECT count(*) FROM memberships WHERE source = 'csv'") == 0
    await page.get_by_role("button", name="Apply these changes").click()
    await expect(page.get_by_text("Done: imported.")).to_be_visible()
    bo = page.get_by_role("row").filter(has_text="bo@acme.example")
    await expect(bo).to_contain_text("not signed in yet")

    # Suspending needs the confirmation box.
    await bo.get_by_label("Change to").select_option("suspended")
    await bo.get_by_role("button", name="Apply").click()
    await expect(page.get_by_text("Tick the box to confirm.")).to_be_visible()
    bo = page.get_by_role("row").filter(has_text="bo@acme.example")
    await bo.get_by_label("Change to").select_option("suspended")
    await bo.get_by_label("I confirm").check()
    await bo.get_by_role("button", name="Apply").click()
    await expect(page.get_by_text("Done: suspended.")).to_be_visible()

    cy = page.get_by_role("row").filter(has_text="cy@acme.example")
    await cy.get_by_label("Role").select_option("member")
    await cy.get_by_role("button", name="Set role").click()
    await expect(page.get_by_text("Done: role-member.")).to_be_visible()
    # Demoting the only admin left is refused next to the row, and says why.
    alice = page.get_by_role("row").filter(has_text="alice@example.com")
    await alice.get_by_label("Role").select_option("member")
    await alice.get_by_role("button", name="Set role").click()
    await expect(page.get_by_text("at least one active admin")).to_be_visible()

    await page.get_by_label("Label for a new token").fill("Okta")
    await page.get_by_role("button", name="Create token").click()
    token = (await page.locator("#new-token").inner_text()).strip()
    assert token.startswith("idsvc_scim_")
    # With JavaScript, a copy button (CSP-allowed by the script's hash) copies it.
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service)
    await page.get_by_role("button", name="Copy token").click()
    await expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == token
    await page.reload()
    assert token not in await page.content()

    # The provider pushes a group with cy in it; the admin makes its members admins.
    async with httpx.AsyncClient(
        base_url=f"{service}/scim/v2", headers={"Authorization": f"Bearer {token}"}
    ) as scim:
        found = await scim.get("/Users", params={"filter": 'userName eq "cy@acme.example"'})
        cy_id = found.json()["Resources"][0]["id"]
        pushed = await scim.post(
            "/Groups",
            json={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "idsvc-admins",
                "members": [{"value": cy_id}],
            },
        )
        assert pushed.status_code == 201, pushed.text
    await page.reload()
    # Cy has not signed in yet: a group makes no address an admin (whoever verified it
    # would be one), and the page says why.
    await page.get_by_label("Role of the members of idsvc-admins").select_option("admin")
    await page.get_by_role("button", name="Save role for idsvc-admins").click()
    await expect(page.get_by_text("have not signed in yet")).to_be_visible()
    await claim(pool, clock(), "cy@acme.example")
    await page.get_by_label("Role of the members of idsvc-admins").select_option("admin")
    await page.get_by_role("button", name="Save role for idsvc-admins").click()
    await expect(page.get_by_text("Done: group-role.")).to_be_visible()
    cy = page.get_by_role("row").filter(has_text="cy@acme.example")
    await expect(cy.get_by_label("Role")).to_have_value("admin")
    await assert_accessible(page)

    # An access review opens; the admin confirms one member and removes another.
    async with db.transaction(pool) as conn:
        await open_due_reviews(conn, now=clock(), interval=timedelta(0), window=timedelta(days=14))
    await page.get_by_role("link", name="Access review").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Access review")
    await assert_accessible(page)
    await page.get_by_label("Decision for cy@acme.example").select_option("confirm")
    await page.get_by_label("Decision for bo@acme.example").select_option("remove")
    await page.get_by_role("button", name="Record these decisions").click()
    await expect(page.get_by_text("Done: your decisions are recorded.")).to_be_visible()
    await expect(page.get_by_role("row").filter(has_text="cy@acme.example")).to_contain_text(
        "confirmed"
    )
    await expect(page.get_by_role("row").filter(has_text="bo@acme.example")).to_contain_text(
        "removed"
    )
    await assert_accessible(page)
    await page.screenshot(path=str(screenshots / "console-access-review.png"), full_page=True)
    await page.get_by_role("link", name="Back to the organisation").click()

    await page.get_by_role("link", name="Audit trail").click()
    await expect(page.get_by_role("table")).to_contain_text("org.members.imported")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshots / "console-org-audit.png"), full_page=True)
    await context.close()

    other, other_page = await open_signed_in_page(browser, service, "Frieda National")
    for path in (f"/console/my-orgs/{org_id}", f"/console/my-orgs/{org_id}/audit"):
        response = await other_page.goto(f"{service}{path}")
        assert response is not None
        assert response.status == 404
    response = await other_page.request.post(
        f"{service}/console/my-orgs/{org_id}/scim-tokens", form={"label": "x", "csrf_token": "x"}
    )
    assert response.status in (403, 404)
    await other.close()


async def test_domains_and_invitations_from_the_org_page(
    browser: Browser, service: str, pool: db.Pool, clock: FakeClock, screenshots: Path
) -> None:
    context, page = await open_signed_in_page(
        browser, service, "Alice Citizen", start="/console/my-orgs"
    )
    await page.get_by_label("Legal name").fill("Beta Labs LLC")
    await page.get_by_label("Country of incorporation (ISO code, e.g. US)").fill("US")
    await page.get_by_label("Compliance contact e-mail").fill("compliance@beta.example")
    await page.get_by_role("button", name="Request").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Beta Labs LLC")
    await page.get_by_label("Add a domain").fill("gmail.com")
    await page.get_by_role("button", name="Add domain").click()
    await expect(page.locator("#f-domain-error")).to_be_visible()
    await page.get_by_label("Add a domain").fill("beta.example")
    await page.get_by_role("button", name="Add domain").click()
    await expect(page.get_by_text("Done: domain-added.")).to_be_visible()
    await expect(page.get_by_label("_idsvc-challenge.beta.example")).not_to_have_value("")
    removal = page.locator("form[action$='/domains/beta.example/remove']")
    await removal.get_by_role("button", name="Remove beta.example").click()
    await expect(page.get_by_role("alert")).to_contain_text("Tick the box")
    # Pending: domains can be prepared, but nobody can be enrolled until approval.
    await expect(page.get_by_role("note")).to_contain_text("Enrolment opens once")
    await expect(page.get_by_role("button", name="Send invitations")).to_have_count(0)
    await expect(page.get_by_role("button", name="Create token")).to_have_count(0)
    await pool.execute(
        "UPDATE organisations SET status = 'approved' WHERE legal_name = 'Beta Labs LLC'"
    )
    await page.reload()
    await expect(page.get_by_role("note")).to_have_count(0)
    # No SMTP server in this service: the form says so and keeps what was typed.
    await page.get_by_label("E-mail addresses (one per line or comma-separated)").fill(
        "dee@beta.example"
    )
    await page.get_by_role("button", name="Send invitations").click()
    await expect(page.get_by_text("E-mail is not configured on this service.")).to_be_visible()
    await expect(
        page.get_by_label("E-mail addresses (one per line or comma-separated)")
    ).to_have_value("dee@beta.example")
    await assert_accessible(page)
    await page.screenshot(path=str(screenshots / "console-my-org-domains.png"), full_page=True)
    await context.close()
