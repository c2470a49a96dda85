"""Access reviews: an approved organisation re-certifies its members every review
interval. The admin confirms or removes each member; those left pending at the due date
are suspended; the admins are reminded by e-mail (a real SMTP server on loopback) before
it. Another organisation's admin can neither see nor decide the review."""

from __future__ import annotations

from datetime import timedelta

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.mail.senders import SmtpMailer
from idsvc.orgs.members.reviews import close_due_reviews, open_due_reviews, remind_reviewers
from idsvc.orgs.members.service import enrol_member
from idsvc.settings import SmtpSettings
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org, create_user
from tests.support.mailbox import Inbox
from tests.support.signin import call, session_caller

Client = AsyncTestClient[Litestar]
INTERVAL, WINDOW = timedelta(days=90), timedelta(days=14)


async def test_an_admin_confirms_or_removes_each_member_and_the_rest_are_suspended(
    client: Client, pool: db.Pool, clock: FakeClock, inbox: tuple[Inbox, int]
) -> None:
    admin = await session_caller(pool, clock(), email="admin@acme.example")
    stranger = await session_caller(pool, clock(), email="admin@other.example")
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        other = await create_org(conn, clock(), name="Other Corp")
        await add_member(conn, clock(), org, admin.user_id, role="admin")
        await add_member(conn, clock(), other, stranger.user_id, role="admin")
        people = {}
        for name in ("bo", "cy", "di"):
            user = await create_user(conn, clock(), email=f"{name}@acme.example")
            people[name] = (await add_member(conn, clock(), org, user)).id
        outsider = await create_user(conn, clock(), email="eve@other.example")
        their_member = (await add_member(conn, clock(), other, outsider)).id
    url = f"/v1/orgs/{org}/reviews"
    assert (await call(client, admin, "GET", f"{url}/current")).status_code == 404

    # Nothing is due until the interval has passed since the organisation began.
    async with db.transaction(pool) as conn:
        assert await open_due_reviews(conn, now=clock(), interval=INTERVAL, window=WINDOW) == []
    clock.advance(INTERVAL.total_seconds())
    async with db.transaction(pool) as conn:
        opened = await open_due_reviews(conn, now=clock(), interval=INTERVAL, window=WINDOW)
    assert len(opened) == 2  # both organisations
    # Months later: new sessions for the same two admins.
    admin = await session_caller(pool, clock(), user_id=admin.user_id)
    stranger = await session_caller(pool, clock(), user_id=stranger.user_id)
    review = (await call(client, admin, "GET", f"{url}/current")).json()
    assert {i["email"] for i in review["items"]} == {
        "admin@acme.example", "bo@acme.example", "cy@acme.example", "di@acme.example"
    }  # fmt: skip
    assert {i["decision"] for i in review["items"]} == {"pending"}

    # Another organisation's admin sees nothing and decides nothing; nor can ours decide
    # on their member through our review.
    assert (await call(client, stranger, "GET", f"{url}/current")).status_code == 404
    foreign = await call(client, stranger, "POST", url, {"confirm": [str(people["bo"])]})
    assert foreign.status_code == 404
    smuggled = await call(client, admin, "POST", url, {"confirm": [str(their_member)]})
    assert smuggled.status_code == 409
    both = await call(client, admin, "POST", url,
                      {"confirm": [str(people["bo"])], "remove": [str(people["bo"])]})  # fmt: skip
    assert both.status_code == 400

    admin_membership = next(
        i["membership"] for i in review["items"] if i["email"] == "admin@acme.example"
    )
    decided = await call(client, admin, "POST", url, {
        "confirm": [admin_membership, str(people["bo"])], "remove": [str(people["cy"])],
    })  # fmt: skip
    assert decided.status_code == 200, decided.text
    states = {i["email"]: i["decision"] for i in decided.json()["items"]}
    assert states["bo@acme.example"] == "confirmed"
    assert states["cy@acme.example"] == "removed"
    assert states["di@acme.example"] == "pending"
    again = await call(client, admin, "POST", url, {"confirm": [str(people["bo"])]})
    assert again.status_code == 409  # decided once

    # Three days before the due date the admins are reminded, once.
    smtp = SmtpSettings(
        host="127.0.0.1", port=inbox[1], security="none", from_address="idsvc@acme.example"
    )
    mailer = SmtpMailer(smtp, None)
    clock.advance((WINDOW - timedelta(days=3)).total_seconds())
    for _ in range(2):
        async with db.transaction(pool) as conn:
            await remind_reviewers(conn, mailer, now=clock(), ahead=timedelta(days=3),
                                   issuer="https://id.example.com")  # fmt: skip
    ours = [m for m in inbox[0].messages if m["To"] == "admin@acme.example"]
    assert len(ours) == 1
    body = ours[0].get_payload(decode=True).decode()
    assert "1 member(s) of Acme Analytics still need your confirmation" in body
    assert f"https://id.example.com/console/my-orgs/{org}/review" in body

    # At the due date the review closes: di, still pending, is suspended.
    clock.advance(timedelta(days=3).total_seconds())
    async with db.transaction(pool) as conn:
        assert await close_due_reviews(conn, now=clock()) == 2
    admin = await session_caller(pool, clock(), user_id=admin.user_id)
    stranger = await session_caller(pool, clock(), user_id=stranger.user_id)
    status = {
        r["id"]: r["status"]
        for r in await pool.fetch("SELECT id, status FROM memberships WHERE org_id = $1", org)
    }
    assert status[people["bo"]] == "active"
    assert status[people["cy"]] == "removed"
    assert status[people["di"]] == "suspended"
    closed = (await call(client, admin, "GET", f"{url}/current")).json()
    assert closed["closed_at"] is not None
    actions = [
        r["action"]
        for r in await pool.fetch(
            "SELECT action FROM audit_events WHERE target = $1 AND action LIKE 'org.review.%'"
            " ORDER BY seq",
            f"org:{org}",
        )
    ]
    assert actions == [
        "org.review.opened", "org.review.decided", "org.review.reminded", "org.review.closed"
    ]  # fmt: skip
    # The other organisation's only admin never answered: suspending them would leave
    # nobody to answer the next review, so they are kept (and the review says so).
    kept = await pool.fetchval(
        "SELECT data->>'kept_last_admin' FROM audit_events"
        " WHERE action = 'org.review.closed' AND target = $1",
        f"org:{other}",
    )
    assert kept == "1"
    assert msgspec.json.decode(
        (await call(client, stranger, "GET", f"/v1/orgs/{other}/reviews/current")).content
    )["items"]

    # The eligibility report carries the review's outcome; formulas in names are inert.
    await pool.execute(
        "UPDATE memberships SET display_name = $2 WHERE id = $1",
        people["bo"],
        '=HYPERLINK("https://evil.example","x")',
    )
    report = await call(client, admin, "GET", f"/v1/orgs/{org}/eligibility-report")
    assert report.status_code == 200, report.text
    rows = {r["email"]: r for r in report.json()["members"]}
    assert rows["bo@acme.example"]["last_review"] == "confirmed"
    assert rows["di@acme.example"]["last_review"] == "suspended"
    assert "cy@acme.example" not in rows  # removed members are not members
    sheet = await call(client, admin, "GET", f"/v1/orgs/{org}/eligibility-report?format=csv")
    assert sheet.headers["content-type"].startswith("text/csv")
    assert "'=HYPERLINK(" in sheet.text
    assert ",=HYPERLINK(" not in sheet.text
    assert sheet.text.splitlines()[0].startswith("email,display_name,role,status,signed_in")
    # Not for another organisation's admin; each download audited.
    other_report = await call(client, stranger, "GET", f"/v1/orgs/{org}/eligibility-report")
    assert other_report.status_code == 404
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'org.eligibility_report.exported'"
        )
        == 2
    )


async def test_a_closing_review_keeps_the_admin_who_signed_in_not_an_unclaimed_one(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    """Issue 24: neither the admin who has signed in nor an admin address nobody has claimed
    answered. Closing suspends the address and keeps the admin; removing the admin in the
    review is refused (409) and changes nothing."""
    admin = await session_caller(pool, clock(), email="admin@acme.example")
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        mine = (await add_member(conn, clock(), org, admin.user_id, role="admin")).id
        unclaimed = await enrol_member(
            conn, org_id=org, email="mallory@evil.example", user_id=None, role="admin",
            status="active", source="csv", actor="test", now=clock(),
        )  # fmt: skip
    clock.advance(INTERVAL.total_seconds())
    async with db.transaction(pool) as conn:
        assert len(await open_due_reviews(conn, now=clock(), interval=INTERVAL, window=WINDOW)) == 1
    admin = await session_caller(pool, clock(), user_id=admin.user_id)
    removed = await call(client, admin, "POST", f"/v1/orgs/{org}/reviews", {"remove": [str(mine)]})
    assert removed.status_code == 409, removed.text
    assert removed.json()["type"] == "urn:idsvc:problem:last_admin"
    clock.advance(WINDOW.total_seconds())
    async with db.transaction(pool) as conn:
        assert await close_due_reviews(conn, now=clock()) == 1
    status = "SELECT status FROM memberships WHERE id = $1"
    assert await pool.fetchval(status, mine) == "active"
    assert await pool.fetchval(status, unclaimed.id) == "suspended"
    closed = await pool.fetchval(
        "SELECT data FROM audit_events WHERE action = 'org.review.closed' AND target = $1",
        f"org:{org}",
    )
    assert (closed["suspended"], closed["kept_last_admin"]) == (1, 1)
