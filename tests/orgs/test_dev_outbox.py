"""`idsvc dev` needs no SMTP server: invitations are printed and kept on /dev/outbox; and
a service with no mail configured refuses to invite instead of losing the mail."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from idsvc.console.operator.outbox.api import outbox_route
from idsvc.mail.senders import ConsoleMailer
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org
from tests.support.settings import make_settings
from tests.support.signin import session_caller


async def test_dev_keeps_invitations_in_an_outbox_and_production_without_smtp_refuses(
    database_url: str, tmp_path: Path, clock: FakeClock, pool: db.Pool
) -> None:
    admin = await session_caller(pool, clock(), email="admin@acme.example")
    operator = await session_caller(pool, clock(), subject="op-1")
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        await add_member(conn, clock(), org, admin.user_id, role="admin")
    settings = make_settings(database_url, tmp_path, cookie_secure=False, operators=("test:op-1",))
    mailer = ConsoleMailer()
    app = create_app(settings, clock=clock, mailer=mailer, extra_routes=(outbox_route(mailer),))
    async with AsyncTestClient(app=app) as client:
        client.cookies.update(admin.cookies)
        sent = await client.post(
            f"/v1/orgs/{org}/invitations",
            json={"emails": ["new@acme.example"]},
            headers=admin.headers,
        )
        assert sent.json()[0]["outcome"] == "sent"
        # The codes in it accept invitations: only operators read the outbox.
        refused = await client.get("/dev/outbox")
        assert refused.status_code == 403
        assert "idsvc_inv_" not in refused.text
        client.cookies.clear()
        signed_out = await client.get("/dev/outbox", follow_redirects=False)
        assert signed_out.status_code == 303
        assert signed_out.headers["location"].startswith("/login?return_to=")
        client.cookies.update(operator.cookies)
        outbox = await client.get("/dev/outbox")
        assert outbox.status_code == 200
        assert "new@acme.example" in outbox.text
        assert "/invitations/idsvc_inv_" in outbox.text
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        client.cookies.update(admin.cookies)
        refused = await client.post(
            f"/v1/orgs/{org}/invitations",
            json={"emails": ["late@acme.example"]},
            headers=admin.headers,
        )
        assert refused.status_code == 503
        assert (await client.get("/dev/outbox")).status_code == 404
    assert (
        await pool.fetchval("SELECT count(*) FROM memberships WHERE email = 'late@acme.example'")
        == 0
    )
