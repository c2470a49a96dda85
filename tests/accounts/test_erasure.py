"""Erasing a person: afterwards a dump of every table holds none of their personal values,
what the audit trail sealed for them cannot be opened, their tokens are revoked — and the
audit chain still verifies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.audit.personal import ERASED, open_sealed
from idsvc.erasure.retention import erase_past_retention
from idsvc.erasure.service import erase_person
from idsvc.orgs.members.errors import LastAdmin
from idsvc.orgs.members.service import enrol_member
from idsvc.policy.model import PolicySettings
from tests.support.cli import run_idsvc
from tests.support.clock import FakeClock, WallClock
from tests.support.demo import browser_token, demo_service
from tests.support.factories import add_member, create_org, create_user
from tests.support.signin import sign_in

MODEL = "https://api.example.com/open-model"
POLICY = PolicySettings(
    id="open", version=1, audience=MODEL, require_us_person=False, entitlements=("use",)
)
# Frieda National, as the demo provider verifies her.
HER_VALUES = ("frieda@example.com", "Frieda", "1992-01-23", "demo-c4a85e13-foreign-national")


@pytest.fixture
def clock() -> FakeClock:
    return WallClock()


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,)) as (url, _):
        yield url


async def _dump(pool: db.Pool) -> str:
    """Every row of every table, as text (what a stolen backup would hold)."""
    tables = await pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    parts = []
    for table in tables:
        rows = await pool.fetch(f'SELECT row_to_json(t)::text AS r FROM "{table["tablename"]}" t')
        parts.extend(r["r"] for r in rows)
    return "\n".join(parts)


async def test_an_erased_person_is_nowhere_and_the_chain_still_verifies(
    service: str, database_url: str, pool: db.Pool
) -> None:
    async with httpx.AsyncClient(base_url=service, timeout=10) as browser:
        await sign_in(browser, "foreign-national")
        await browser_token(browser, MODEL)
    user_id: uuid.UUID = await pool.fetchval(
        "SELECT user_id FROM identities WHERE subject = 'demo-c4a85e13-foreign-national'"
    )
    before = await _dump(pool)
    assert all(value in before for value in HER_VALUES)  # the test can see them at all
    recorded = await pool.fetch(
        "SELECT data FROM audit_events WHERE action = 'attestation.recorded' AND target = $1",
        f"user:{user_id}",
    )
    async with pool.acquire() as conn:
        opened = [await open_sealed(conn, r["data"]) for r in recorded]
    assert {"values": ["DE"], "inconsistency": None} in [o["personal"] for o in opened]

    # An enrolment by her address she never claimed (a pending organisation's CSV row), and
    # an organisation she named herself as the compliance contact of.
    async with db.transaction(pool) as conn:
        pending = await create_org(conn, datetime.now(UTC), status="pending", name="Later Co")
        await conn.execute(
            "UPDATE organisations SET contact_email = 'Frieda@Example.com' WHERE id = $1", pending
        )
        await enrol_member(
            conn, org_id=pending, email="frieda@example.com", user_id=None, role="member",
            status="active", source="csv", actor="test", now=datetime.now(UTC),
        )  # fmt: skip

    # Active just now: her records are still under their retention duty (15 CFR 762.6).
    code, _, err = await run_idsvc(
        "users", "erase", str(user_id), "--reason", "request of the person, case 2026-117",
        database_url=database_url,
    )  # fmt: skip
    assert code == 1
    assert "kept until" in err
    code, out, err = await run_idsvc(
        "users", "erase", str(user_id), "--reason", "request of the person, case 2026-117",
        "--despite-retention", database_url=database_url,
    )  # fmt: skip
    assert code == 0, err
    assert "1 token(s) revoked" in out

    after = await _dump(pool)
    for value in HER_VALUES:
        assert value not in after, value
    nationality = await pool.fetch(
        "SELECT attested_values FROM attestations WHERE user_id = $1", user_id
    )
    assert {tuple(r["attested_values"]) for r in nationality} == {("erased",)}
    async with pool.acquire() as conn:
        for row in recorded:
            assert (await open_sealed(conn, row["data"]))["personal"] == ERASED
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM token_statuses WHERE user_id = $1 AND status <> 1", user_id
        )
        == 0
    )  # every token of hers invalid
    erased = await pool.fetchrow(
        "SELECT actor, data FROM audit_events WHERE action = 'person.erased'"
    )
    assert erased["actor"].startswith("cli:")
    assert erased["data"]["tokens_revoked"] == 1

    code, out, err = await run_idsvc("audit", "verify", database_url=database_url)
    assert code == 0, out + err
    again = await run_idsvc(
        "users", "erase", str(user_id), "--reason", "twice", database_url=database_url
    )
    assert again[0] == 1
    assert "already erased" in again[2]


async def test_people_past_retention_are_erased_and_no_one_else(
    pool: db.Pool, clock: FakeClock
) -> None:
    """15 CFR 762.6: five years after their last activity (a sign-in, a refresh-token use),
    a person's records are due for erasure; someone active since is kept."""
    async with db.transaction(pool) as conn:
        gone = await create_user(conn, clock(), email="gone@example.com")
        kept = await create_user(conn, clock(), email="kept@example.com")
    clock.advance(3 * 366 * 86_400)
    async with db.transaction(pool) as conn:  # kept signs in again three years on
        await conn.execute(
            "UPDATE identities SET last_login_at = $2 WHERE user_id = $1", kept, clock()
        )
    clock.advance(3 * 366 * 86_400)
    period = timedelta(days=5 * 366)
    async with db.transaction(pool) as conn:
        erased = await erase_past_retention(conn, now=clock(), period=period)
    assert erased == [gone]
    assert await pool.fetchval("SELECT email FROM users WHERE id = $1", gone) is None
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", kept) == "active"
    reason = await pool.fetchval(
        "SELECT data->>'reason' FROM audit_events WHERE action = 'person.erased'"
    )
    assert reason == "retention period ended (15 CFR 762.6)"
    async with db.transaction(pool) as conn:  # the next run finds nobody new
        assert await erase_past_retention(conn, now=clock(), period=period) == []


async def test_the_last_admin_who_signed_in_is_not_erased(
    pool: db.Pool, clock: FakeClock, database_url: str
) -> None:
    """Erasure removes a person's memberships, so it would leave an organisation whose only
    admin who has signed in they are with nobody to run it (an admin address nobody has
    claimed does not count: whoever verified it would own the organisation). Refused, naming
    the organisation and changing nothing, until another admin has signed in; the retention
    job passes them over meanwhile and erases the others."""
    async with db.transaction(pool) as conn:
        ada = await create_user(conn, clock(), email="ada@acme.example")
        bo = await create_user(conn, clock(), email="bo@other.example")
        acme = await create_org(conn, clock())
        other = await create_org(conn, clock(), name="Other Corp")
        await add_member(conn, clock(), acme, ada, role="admin")
        await add_member(conn, clock(), other, ada, role="admin")
        await add_member(conn, clock(), other, bo, role="admin")  # Other Corp has another
        await enrol_member(
            conn, org_id=acme, email="mallory@evil.example", user_id=None, role="admin",
            status="active", source="csv", actor="test", now=clock(),
        )  # fmt: skip
    memberships = "SELECT role, status FROM memberships WHERE user_id = $1 ORDER BY org_id"
    before = await pool.fetch(memberships, ada)

    async with pool.acquire() as conn:
        with pytest.raises(LastAdmin) as refused:
            async with conn.transaction():
                await erase_person(
                    conn, user_id=ada, reason="request of the person", actor="test", now=clock()
                )
    assert "Acme Analytics" in refused.value.detail
    assert "Other Corp" not in refused.value.detail
    code, _, err = await run_idsvc(
        "users", "erase", str(ada), "--reason", "request of the person", "--despite-retention",
        database_url=database_url,
    )  # fmt: skip
    assert code == 1
    assert "Acme Analytics" in err
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", ada) == "active"
    assert await pool.fetch(memberships, ada) == before

    clock.advance(6 * 366 * 86_400)
    async with db.transaction(pool) as conn:
        erased = await erase_past_retention(conn, now=clock(), period=timedelta(days=5 * 366))
    assert erased == [bo]
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", ada) == "active"

    # Cy signs in and is appointed in both: now Ada may go.
    async with db.transaction(pool) as conn:
        cy = await create_user(conn, clock(), email="cy@acme.example")
        await add_member(conn, clock(), acme, cy, role="admin")
        await add_member(conn, clock(), other, cy, role="admin")
        await erase_person(
            conn, user_id=ada, reason="request of the person", actor="test", now=clock()
        )
    assert await pool.fetchval("SELECT status FROM users WHERE id = $1", ada) == "erased"
