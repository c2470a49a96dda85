"""People are e-mailed (a real SMTP server on loopback) before a verification they depend
on expires: once per attestation, at the verified address, with the link to verify again,
naming no nationality; a person who turned reminders off on /me gets none."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from idsvc.attestations.mapping import AttestationDraft
from idsvc.attestations.reminders import send_expiry_reminders
from idsvc.attestations.store import record_attestations
from idsvc.mail.senders import SmtpMailer
from idsvc.settings import SmtpSettings
from tests.support.clock import FakeClock
from tests.support.factories import create_user
from tests.support.mailbox import Inbox
from tests.support.settings import make_settings
from tests.support.signin import session_caller

NOTICE = timedelta(days=30)


@pytest.fixture
async def client(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = make_settings(database_url, tmp_path, cookie_secure=False)
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as test_client:
        yield test_client


async def _person(pool: db.Pool, clock: FakeClock, email: str, expires_in: timedelta) -> uuid.UUID:
    async with db.transaction(pool) as conn:
        user_id = await create_user(conn, clock(), email=email)
        drafts = [
            AttestationDraft(
                kind=kind, values=values, trust_framework="nist_800_63A", assurance="IAL2",
                verified_at=clock() - timedelta(days=300), expires_at=clock() + expires_in,
                evidence=(),
            )
            for kind, values in (("us_person_basis", ("citizen",)), ("nationalities", ("DE",)))
        ]  # fmt: skip
        await record_attestations(conn, user_id=user_id, provider="p", drafts=drafts, now=clock())
    return user_id


async def test_people_are_reminded_once_unless_they_opted_out(
    client: AsyncTestClient[Litestar], pool: db.Pool, clock: FakeClock, inbox: tuple[Inbox, int]
) -> None:
    soon = await _person(pool, clock, "soon@example.com", timedelta(days=10))
    await _person(pool, clock, "later@example.com", timedelta(days=200))
    quiet = await _person(pool, clock, "quiet@example.com", timedelta(days=5))

    # The quiet one turns reminders off on /me (the form, with its CSRF token).
    caller = await session_caller(pool, clock(), user_id=quiet)
    client.cookies.update(caller.cookies)
    no_csrf = await client.post("/me/reminders", data={"expiry_reminders": ""})
    assert no_csrf.status_code == 403
    saved = await client.post(
        "/me/reminders", data={"csrf_token": caller.headers["x-csrf-token"]},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    page = await client.get("/me")
    assert "Your reminder choice is saved" not in page.text  # only right after saving
    assert 'id="expiry-reminders" name="expiry_reminders" type="checkbox">' in page.text
    client.cookies.clear()

    smtp = SmtpSettings(
        host="127.0.0.1", port=inbox[1], security="none", from_address="idsvc@example.com"
    )
    mailer = SmtpMailer(smtp, None)
    for _ in range(2):  # the daily job runs again: nothing is sent twice
        async with db.transaction(pool) as conn:
            await send_expiry_reminders(
                conn, mailer, now=clock(), notice=NOTICE, issuer="https://id.example.com"
            )
    assert [m["To"] for m in inbox[0].messages] == ["soon@example.com"]
    body = inbox[0].messages[0].get_payload(decode=True).decode()
    assert (clock() + timedelta(days=10)).strftime("%Y-%m-%d") in body
    assert "https://id.example.com/login" in body
    assert "DE" not in body.split()  # never the nationality
    events = await pool.fetch(
        "SELECT action, target FROM audit_events WHERE action LIKE 'person.expiry_%' ORDER BY seq"
    )
    assert [(e["action"], e["target"]) for e in events] == [
        ("person.expiry_reminders.off", f"user:{quiet}"),
        ("person.expiry_reminded", f"user:{soon}"),
    ]
