"""What operators deliberate about an organisation is theirs: a legal hold placed on it (an
investigation it must not be tipped off about) and the four-eyes steps of a decision not
yet taken leave its admin's audit trail exactly as it would be without them (two worlds
that differ only in that, rendered as the admin sees them)."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org
from tests.support.four_eyes_subjects import two_operators
from tests.support.screening import import_demo_list
from tests.support.signin import call, session_caller

Client = AsyncTestClient[Litestar]
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HIDDEN = re.compile(r'(name="csrf_token" value=")[^"]+|(nonce=")[^"]+|(nonce-)[A-Za-z0-9+/=_-]+')


def _normalised(text: str) -> str:
    return _HIDDEN.sub("<hidden>", _UUID.sub("<id>", text))


async def _admins_trail(
    client: Client, pool: db.Pool, clock: FakeClock, *, deliberated: bool
) -> str:
    async with pool.acquire() as conn:
        await import_demo_list(conn, clock())
    admin = await session_caller(pool, clock(), email="admin@acme.example")
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        await add_member(conn, clock(), org, admin.user_id, role="admin")
    if deliberated:
        first, second = await two_operators(pool, clock)
        hold = {"case_reference": "DOJ-2026-0412", "reason": "Subpoena about its exports"}
        placed = await call(client, first, "POST", f"/v1/operator/orgs/{org}/legal-hold", hold)
        assert placed.status_code == 201, placed.text
        grant = {"programs": ["frontier-research"], "reason": "eligible, pending checks"}
        url = f"/v1/operator/orgs/{org}/programs"
        assert (await call(client, first, "POST", url, grant)).status_code == 202
        assert (await call(client, first, "POST", url, grant)).status_code == 409
        other = {"programs": ["defence"], "reason": "defence instead"}
        assert (await call(client, second, "POST", url, other)).status_code == 409
    trail = await call(client, admin, "GET", f"/console/my-orgs/{org}/audit")
    assert trail.status_code == 200
    return _normalised(trail.text)


async def test_the_admins_trail_shows_no_hold_and_no_deliberation(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    plain = await _admins_trail(client, pool, clock, deliberated=False)
    deliberated = await _admins_trail(client, pool, clock, deliberated=True)
    assert "DOJ-2026-0412" not in deliberated
    assert deliberated == plain
