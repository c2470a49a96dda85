"""What org admins learn: a coarse state per member and audience, never a reason that
depends on nationality, residency or screening (docs/privacy.md, tested per cell)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from idsvc.orgs.disclosure import admin_state
from idsvc.policy.decision import Reason
from idsvc.policy.model import OrgRequirement, PolicySettings
from tests.support.clock import FakeClock
from tests.support.factories import add_member, attest, create_org
from tests.support.settings import make_settings
from tests.support.signin import session_caller

NO_CN = "https://api.example.com/no-cn"
# The organisation's own audience (it requires membership of an organisation): the only
# kind an admin sees states for (docs/privacy.md).
POLICY = PolicySettings(
    id="no-cn",
    version=1,
    audience=NO_CN,
    entitlements=("invoke",),
    require_us_person=False,
    deny_nationalities=("CHN",),
    organisation=OrgRequirement(),
)
# Every refusal reason the decision function can give, and what an admin sees for it.
EXPECTED: dict[str, str] = {
    "user_disabled": "not_eligible",
    "attestation_missing": "needs_verification",
    "attestation_expired": "needs_verification",
    "assurance_too_low": "needs_verification",
    "not_us_person": "not_eligible",
    "nationality_denied": "not_eligible",
    "nationality_not_allowed": "not_eligible",
    "residency_denied": "not_eligible",
    "org_required": "not_eligible",
    "org_not_approved": "under_review",
    "org_not_in_program": "not_eligible",
    "membership_inactive": "under_review",
    "role_not_allowed": "not_eligible",
    "evidence_inconsistent": "not_eligible",
    # Only foreign persons are asked for it: it depends on nationality, like the others.
    "most_recent_country_unknown": "not_eligible",
    # A screening hold looks like any other refusal: the party is not tipped off.
    "screening_review": "not_eligible",
    # Unscreened (no current list, or no name to screen): nothing about the person's
    # nationality or a listing, and nothing an admin could act on.
    "screening_unavailable": "not_eligible",
}


def test_every_reason_has_an_admin_state() -> None:
    assert set(EXPECTED) == set(Reason.__args__)  # type: ignore[attr-defined]
    for reason, state in EXPECTED.items():
        assert admin_state([reason]) == state, reason
    assert admin_state([]) == "eligible"
    assert admin_state(["not_signed_in"]) == "needs_verification"


@pytest.mark.parametrize(
    "hidden",
    [
        "nationality_denied",
        "nationality_not_allowed",
        "residency_denied",
        "not_us_person",
        "most_recent_country_unknown",
        "screening_review",
    ],
)
def test_a_nationality_reason_never_changes_the_state_of_someone_who_must_verify(
    hidden: str,
) -> None:
    """Two people whose documents expired, one of a denied nationality: the same state."""
    assert admin_state(["attestation_expired", hidden]) == admin_state(["attestation_expired"])


@pytest.fixture
async def client(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = make_settings(database_url, tmp_path, policies=(POLICY,), cookie_secure=False)
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as test_client:
        yield test_client


async def test_the_members_list_and_page_carry_states_not_reasons(
    client: AsyncTestClient[Litestar], pool: db.Pool, clock: FakeClock
) -> None:
    admin = await session_caller(pool, clock(), email="admin@acme.example")
    chinese = await session_caller(pool, clock(), email="li@acme.example")
    german = await session_caller(pool, clock(), email="jonas@acme.example")
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        await add_member(conn, clock(), org, admin.user_id, role="admin")
        for person, country in ((chinese, "CN"), (german, "DE")):
            await add_member(conn, clock(), org, person.user_id)
            await attest(conn, clock(), person.user_id, nationalities=(country,), basis=None)
    client.cookies.update(admin.cookies)
    listed = await client.get(f"/v1/orgs/{org}/members")
    page = await client.get(f"/console/my-orgs/{org}")
    for response in (listed, page):
        assert response.status_code == 200
        for leak in (
            "nationality_denied",
            "nationality_not_allowed",
            "residency_denied",
            "not_us_person",
            '"CN"',
            ">CN<",
            '"DE"',
            ">DE<",
        ):
            assert leak not in response.text, leak
        assert "not eligible" in response.text or "not_eligible" in response.text
    states = {m["email"]: m["eligibility"][0]["state"] for m in listed.json()["members"]}
    assert states == {
        "admin@acme.example": "needs_verification",
        "li@acme.example": "not_eligible",
        "jonas@acme.example": "eligible",
    }
