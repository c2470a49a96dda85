"""What an org admin can learn, proven by non-interference (issue 25).

Two worlds are built that differ only in one member's protected facts — nationalities,
U.S.-person basis, assurance above the minimum, a screening hit, a most-recent-country
determination, membership of another organisation and its audience. Every surface the
organisation's admin reaches is rendered in both (members API, eligibility report as JSON
and CSV, the console's organisation page and its audit trail), and after normalising ids
and timestamps the two must be identical — except the declared fields: the member's coarse
state for the organisation's own audiences (docs/privacy.md). Hypothesis draws the pairs;
each world is a fresh database from the migrated template, served by the real app.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from idsvc.attestations.mapping import AttestationDraft
from idsvc.attestations.service import confirm_most_recent_country, record_most_recent_country
from idsvc.attestations.store import record_attestations
from idsvc.orgs.members.reviews import open_due_reviews
from idsvc.policy.model import OrgRequirement, PolicySettings
from idsvc.settings import ScreeningSettings
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org
from tests.support.four_eyes import TWO_OPERATORS
from tests.support.pg import TestDatabases
from tests.support.screening import import_demo_list, screen
from tests.support.settings import make_settings
from tests.support.signin import session_caller

OWN = "https://models.example/research"  # requires membership of an organisation in "research"
OTHER_ORGS = "https://models.example/other-program"  # another organisation's program
US_PERSONS = "https://models.example/us-persons"  # no organisation at all
NO_CN = "https://models.example/us-persons-no-cn"
POLICIES = (
    PolicySettings(id="own", version=1, audience=OWN, entitlements=("use",),
                   require_us_person=False, organisation=OrgRequirement(programs=("research",))),
    PolicySettings(id="other", version=1, audience=OTHER_ORGS, entitlements=("use",),
                   require_us_person=False, organisation=OrgRequirement(programs=("other",))),
    PolicySettings(id="us", version=1, audience=US_PERSONS, entitlements=("use",)),
    PolicySettings(id="no-cn", version=1, audience=NO_CN, entitlements=("use",),
                   deny_nationalities=("CN",)),
)  # fmt: skip
START = datetime(2026, 12, 1, tzinfo=UTC)
LISTED = json.dumps({"total": 2, "results": [
    {"id": "sdn-1", "name": "LISTED, Mallory", "type": "Individual", "source": "SDN"},
    {"id": "sdn-2", "name": "Padding Shipping Company", "type": "Entity", "source": "SDN"},
]}).encode()  # fmt: skip

secrets = st.fixed_dictionaries(
    {
        "nationalities": st.sets(st.sampled_from(["US", "CN", "DE", "IR"]), min_size=1),
        "basis": st.sampled_from([None, "citizen", "permanent_resident"]),
        "assurance": st.sampled_from(["IAL2", "IAL3"]),  # both at or above the minimum
        "listed": st.booleans(),  # the screened name matches the listed entry
        "determined": st.booleans(),
        "other_org": st.booleans(),
    }
)


async def _world(
    databases: TestDatabases, tmp_path: Path, secret: dict[str, Any], *, sees: bool
) -> dict[str, str]:
    """Build one world and render every surface its organisation's admin reaches; its
    database goes with it (Hypothesis builds dozens)."""
    url = await databases.create()
    try:
        return await _rendered_world(url, tmp_path, secret, sees=sees)
    finally:
        await databases.drop(url)


async def _rendered_world(
    url: str, tmp_path: Path, secret: dict[str, Any], *, sees: bool
) -> dict[str, str]:
    clock = FakeClock(START)
    pool = await db.create_pool(url, min_size=1, max_size=2)
    try:
        admin = await session_caller(pool, clock(), email="admin@acme.example")
        member = await session_caller(pool, clock(), email="mallory@acme.example")
        async with db.transaction(pool) as conn:
            org = await create_org(conn, clock(), programs=("research",))
            await add_member(conn, clock(), org, admin.user_id, role="admin")
            await add_member(conn, clock(), org, member.user_id)
            if secret["other_org"]:
                other = await create_org(conn, clock(), programs=("other",), name="Other Org")
                await add_member(conn, clock(), other, member.user_id)
            drafts = [_draft("nationalities", tuple(sorted(secret["nationalities"])), secret)]
            if secret["basis"]:
                drafts.append(_draft("us_person_basis", (secret["basis"],), secret))
            await record_attestations(
                conn, user_id=member.user_id, provider="p", drafts=drafts, now=clock()
            )
            if secret["determined"]:
                country = sorted(secret["nationalities"] - {"US"} or {"US"})[0]
                if country != "US":
                    proposal, _ = await record_most_recent_country(
                        conn, user_id=member.user_id, country=country, operator=uuid.uuid4(),
                        justification="naturalised there last, certificate seen", now=clock(),
                        rule=TWO_OPERATORS,
                    )  # fmt: skip
                    await confirm_most_recent_country(
                        conn, user_id=member.user_id, attestation_id=proposal,
                        operator=uuid.uuid4(), now=clock(), rule=TWO_OPERATORS,
                    )  # fmt: skip
        async with pool.acquire() as conn:
            await import_demo_list(conn, clock(), LISTED)
            # Both the admin and the member are screened; the member's name is the secret.
            await screen(conn, clock(), admin.user_id, name="Ada Admin")
            name = "Mallory Listed" if secret["listed"] else "Mallory Cleanname"
            await screen(conn, clock(), member.user_id, name=name)
        async with db.transaction(pool) as conn:
            # An access review is open, so its pages have the member on them.
            opened = await open_due_reviews(
                conn, now=clock(), interval=timedelta(0), window=timedelta(days=14)
            )
            assert len(opened) == 1 + secret["other_org"]
    finally:
        await pool.close()
    app_settings = make_settings(
        url, tmp_path, policies=POLICIES, cookie_secure=False, screening=ScreeningSettings()
    )
    orgs = msgspec.structs.replace(app_settings.config.orgs, admin_sees_eligibility=sees)
    app_settings = msgspec.structs.replace(
        app_settings, config=msgspec.structs.replace(app_settings.config, orgs=orgs)
    )
    rendered: dict[str, str] = {}
    async with AsyncTestClient(app=create_app(app_settings, clock=clock)) as client:
        client.cookies.update(admin.cookies)
        for surface, path in (
            ("organisation", f"/v1/orgs/{org}"),
            ("members", f"/v1/orgs/{org}/members"),
            ("report", f"/v1/orgs/{org}/eligibility-report"),
            ("report.csv", f"/v1/orgs/{org}/eligibility-report?format=csv"),
            ("review", f"/v1/orgs/{org}/reviews/current"),
            ("scim groups admin", f"/v1/orgs/{org}/scim-groups"),
            ("console", f"/console/my-orgs/{org}"),
            ("console review", f"/console/my-orgs/{org}/review"),
            ("console audit", f"/console/my-orgs/{org}/audit"),
        ):
            response = await client.get(path)
            assert response.status_code == 200, (surface, response.text)
            rendered[surface] = response.text
        # The organisation's identity provider, over SCIM with the admin's token.
        created = await client.post(
            f"/v1/orgs/{org}/scim-tokens", json={"label": "IdP"}, headers=admin.headers
        )
        assert created.status_code == 201, created.text
        bearer = {"Authorization": f"Bearer {created.json()['token']}"}
        client.cookies.clear()
        for surface, path in (("scim users", "/scim/v2/Users"), ("scim groups", "/scim/v2/Groups")):
            response = await client.get(path, headers=bearer)
            assert response.status_code == 200, (surface, response.text)
            rendered[surface] = response.text
    return rendered


def _draft(kind: str, values: tuple[str, ...], secret: dict[str, Any]) -> AttestationDraft:
    return AttestationDraft(
        kind=kind, values=values, trust_framework="t", assurance=secret["assurance"],  # type: ignore[arg-type]
        verified_at=START - timedelta(days=1), expires_at=START + timedelta(days=300),
        evidence=(),
    )  # fmt: skip


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_HIDDEN = re.compile(r'(name="csrf_token" value=")[^"]+|(nonce=")[^"]+|(nonce-)[A-Za-z0-9+/=_-]+')


def _normalised(text: str) -> str:
    ids: dict[str, str] = {}
    text = _UUID.sub(lambda m: ids.setdefault(m.group(0), f"<id{len(ids)}>"), text)
    return _HIDDEN.sub(
        lambda m: (m.group(1) or m.group(2) or m.group(3)) + "<hidden>", _TIME.sub("<time>", text)
    )


def _in_stable_order(surface: str, text: str) -> str:
    """SCIM lists resources in the order of their (random) ids: sorted by name here, so that
    two worlds differ in order only where a secret would order them."""
    if not surface.startswith("scim "):
        return text
    body = json.loads(text)
    if "Resources" in body:  # an empty list leaves it out
        body["Resources"] = sorted(
            body["Resources"], key=lambda r: str(r.get("userName") or r.get("displayName"))
        )
    return json.dumps(body, sort_keys=True)


def _declared_masked(surface: str, text: str) -> str:
    """The member's state for the organisation's own audiences, blanked: what the admin may
    learn. Everything else must be equal in both worlds."""
    if surface in ("members", "report"):
        body = json.loads(text)
        for member in body["members"]:
            for item in member.get("eligibility", []):
                if item["audience"] == OWN:
                    item["state"], item["eligible"] = "<declared>", "<declared>"
            if OWN in member.get("states", {}):
                member["states"][OWN] = "<declared>"
        return json.dumps(body, sort_keys=True)
    if surface == "report.csv":
        rows = list(csv.reader(io.StringIO(text)))
        if OWN in rows[0]:
            column = rows[0].index(OWN)
            for row in rows[1:]:
                row[column] = "<declared>"
        return json.dumps(rows)
    return re.sub(rf"({re.escape(OWN)}: )<span[^>]*>[^<]*</span>", r"\1<declared>", text)


def _render_pair(
    databases: TestDatabases, tmp_path: Path, one: dict[str, Any], two: dict[str, Any], sees: bool
) -> tuple[dict[str, str], dict[str, str]]:
    loop = asyncio.new_event_loop()
    try:
        run: Callable[[Awaitable[dict[str, str]]], dict[str, str]] = loop.run_until_complete
        return (
            run(_world(databases, tmp_path, one, sees=sees)),
            run(_world(databases, tmp_path, two, sees=sees)),
        )
    finally:
        loop.close()


# Slow tier (`make test-fast` leaves it out): every example builds two worlds, each a fresh
# database served by its own app (11 s serial, the fast tier's longest test).
@pytest.mark.slow
@pytest.mark.parametrize(("sees", "examples"), [(True, 8), (False, 3)])
def test_an_admin_learns_nothing_but_the_declared_states(
    databases: TestDatabases, tmp_path: Path, sees: bool, examples: int
) -> None:
    """With ``admin_sees_eligibility = false`` nothing is declared: the surfaces must be
    identical whatever the member's protected facts."""

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(one=secrets, two=secrets)
    def worlds(one: dict[str, Any], two: dict[str, Any]) -> None:
        first, second = _render_pair(databases, tmp_path, one, two, sees)
        for surface in first:
            shown = [_in_stable_order(surface, w[surface]) for w in (first, second)]
            if sees:
                shown = [_declared_masked(surface, text) for text in shown]
            seen = [_normalised(text) for text in shown]
            assert seen[0] == seen[1], (surface, one, two)
        if not sees:
            assert OWN not in first["members"]
            assert all(m["enrolled"] for m in json.loads(first["members"])["members"])

    worlds()
