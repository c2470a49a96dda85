"""An admin's reason for a member's status may name the member: it is stored sealed under
the membership's data key, the organisation's admins read it on their audit trail, and
erasing the member shreds it. The trail opens what was sealed for the organisation and its
memberships only: a value sealed for anyone else reads "[withheld]"."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.audit import record_event
from idsvc.audit.personal import ERASED, WITHHELD, for_membership, for_person, seal
from idsvc.erasure.service import erase_person
from idsvc.orgs.vetting.organisations import set_org_status
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org, create_user
from tests.support.four_eyes import ONE_OPERATOR
from tests.support.signin import call, session_caller

Client = AsyncTestClient[Litestar]
REASON = "Zebulon Quintavius (born 1961-02-03) left the project"
OPERATOR_REASON = "vetted; their officer Zebulon Quintavius vouched"


async def test_admins_read_the_reasons_sealed_for_their_organisation_and_nothing_else(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    admin = await session_caller(pool, clock())
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock(), status="pending")
        await add_member(conn, clock(), org, admin.user_id, role="admin")
        zeb = await create_user(conn, clock(), email="zeb@example.com")
        member = await add_member(conn, clock(), org, zeb)
        await set_org_status(
            conn, org_id=org, status="approved", reason=OPERATOR_REASON, actor="operator",
            now=clock(), four_eyes=True, rule=ONE_OPERATOR, list_max_age=None,
        )  # fmt: skip
        # Values sealed for others that an event on this organisation's trail might carry:
        # the member's own (a person's key) and another organisation's membership's.
        elsewhere = await add_member(conn, clock(), await create_org(conn, clock()), zeb)
        mine = await seal(conn, for_person(zeb), "sealed for the member", now=clock())
        other = await seal(
            conn, for_membership(elsewhere.id), "sealed for another organisation", now=clock()
        )
        await record_event(
            conn, at=clock(), actor="test", action="org.test.sealed", target=f"org:{org}",
            data={"person": mine, "other": other},
        )  # fmt: skip

    url = f"/v1/orgs/{org}/members/{member.id}/status"
    changed = await call(client, admin, "POST", url, {"status": "suspended", "reason": REASON})
    assert changed.status_code == 200, changed.text
    stored = await pool.fetchval(
        "SELECT data->'reason' FROM audit_events WHERE action = 'org.member.suspended'"
    )
    assert set(stored) == {"membership", "sealed"}
    assert "Zebulon" not in str(await pool.fetch("SELECT data FROM audit_events"))
    assert "Zebulon" not in str(await pool.fetch("SELECT status_reason FROM organisations"))

    trail = await call(client, admin, "GET", f"/console/my-orgs/{org}/audit")
    assert trail.status_code == 200
    assert REASON in trail.text
    assert OPERATOR_REASON in trail.text
    assert trail.text.count(WITHHELD) == 2
    assert "sealed for the member" not in trail.text
    assert "sealed for another organisation" not in trail.text
    page = await call(client, admin, "GET", f"/console/my-orgs/{org}")
    assert OPERATOR_REASON in page.text  # the organisation's state and why
    shown = await call(client, admin, "GET", "/v1/orgs/" + str(org))
    assert shown.json()["status_reason"] == OPERATOR_REASON

    async with db.transaction(pool) as conn:
        await erase_person(conn, user_id=zeb, reason="request of the person", actor="test",
                           now=clock())  # fmt: skip
    trail = await call(client, admin, "GET", f"/console/my-orgs/{org}/audit")
    assert REASON not in trail.text
    assert ERASED in trail.text
    assert OPERATOR_REASON in trail.text  # the organisation's own text is not his to shred
