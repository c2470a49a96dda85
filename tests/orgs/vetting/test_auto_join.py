"""Auto-join at sign-in: a real sign-in through the demo provider (its personas' e-mail
addresses are verified ``@example.com`` ones) enrols the user where an approved
organisation verified ``example.com`` and turned auto-join on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.orgs.domains.auto_join import auto_join_on_sign_in
from idsvc.orgs.records import OrgStatus
from tests.support.clock import FakeClock
from tests.support.demo import demo_service
from tests.support.factories import add_member, create_org, create_user
from tests.support.signin import sign_in

_VERIFIED_DOMAIN = """
INSERT INTO org_domains (org_id, domain, challenge, created_at, verified_at)
VALUES ($1, $2, 'challenge-value-for-tests-0123456789', $3, $4)
"""
_MEMBERSHIPS = """
SELECT m.org_id, m.role, m.status, m.source FROM memberships m
JOIN identities i ON i.user_id = m.user_id
WHERE i.subject = $1 ORDER BY m.created_at
"""


async def _org(
    pool: db.Pool,
    clock: FakeClock,
    *,
    auto_join: str,
    status: OrgStatus = "approved",
    domain: str = "example.com",
    verified: bool = True,
) -> uuid.UUID:
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock(), status=status, name=f"Org {uuid.uuid4().hex[:6]}")
        await conn.execute(_VERIFIED_DOMAIN, org, domain, clock(), clock() if verified else None)
        await conn.execute("UPDATE organisations SET auto_join = $2 WHERE id = $1", org, auto_join)
    return org


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock) as (url, _):
        yield url


async def test_sign_in_enrols_users_of_a_verified_domain(
    service: str, pool: db.Pool, clock: FakeClock
) -> None:
    active = await _org(pool, clock, auto_join="active")
    # Claimed but unproven, or a different (sub)domain: no match.
    await _org(pool, clock, auto_join="active", verified=False)
    await _org(pool, clock, auto_join="active", domain="mail.example.com")
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        answer = await sign_in(client, "email-only")
        assert answer.status_code in (302, 303), answer.text
    rows = await pool.fetch(_MEMBERSHIPS, "demo-0a6b3c88-email-only")
    assert [(r["org_id"], r["status"], r["source"], r["role"]) for r in rows] == [
        (active, "active", "auto_join", "member")
    ]
    events = await pool.fetch(
        "SELECT actor, target, data FROM audit_events WHERE action = 'org.member.enrolled'"
        " AND data->>'source' = 'auto_join'"
    )
    assert [e["target"] for e in events] == [f"org:{active}"]
    assert {e["actor"] for e in events} == {"system"}
    assert not any("sam@example.com" in str(e["data"]) for e in events)

    # Signing in again changes nothing: the memberships exist.
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        await sign_in(client, "email-only")
    assert len(await pool.fetch(_MEMBERSHIPS, "demo-0a6b3c88-email-only")) == 1


@pytest.mark.parametrize(
    ("status", "mode", "joined"),
    [
        ("approved", "active", "active"),
        ("approved", "pending", "pending"),
        ("approved", "off", None),
        ("pending", "active", None),  # not vetted yet
        ("suspended", "active", None),
        ("rejected", "active", None),
    ],
)
async def test_only_approved_organisations_with_auto_join_on_enrol(
    pool: db.Pool, clock: FakeClock, status: OrgStatus, mode: str, joined: str | None
) -> None:
    org = await _org(pool, clock, auto_join=mode, status=status, domain="acme.test")
    async with db.transaction(pool) as conn:
        user = await create_user(conn, clock(), email="ada@acme.test")
        ids = await auto_join_on_sign_in(
            conn, user_id=user, email="ada@acme.test", email_verified=True, now=clock()
        )
    found = await pool.fetchval("SELECT status FROM memberships WHERE org_id = $1", org)
    assert found == joined
    assert len(ids) == (joined is not None)


async def test_existing_and_removed_memberships_are_left_alone(
    pool: db.Pool, clock: FakeClock
) -> None:
    org = await _org(pool, clock, auto_join="active")
    async with db.transaction(pool) as conn:
        removed_user = await create_user(conn, clock(), email="gone@example.com")
        membership = await add_member(conn, clock(), org, removed_user, status="active")
        await conn.execute("UPDATE memberships SET status = 'removed' WHERE id = $1", membership.id)
        suspended_user = await create_user(conn, clock(), email="paused@example.com")
        await add_member(conn, clock(), org, suspended_user, status="suspended")
        invited_user = await create_user(conn, clock(), email="Invited@Example.com")
        await conn.execute(
            "INSERT INTO memberships (id, org_id, email, role, status, source, created_at,"
            " updated_at) VALUES ($1, $2, 'invited@example.com', 'member', 'invited',"
            " 'invitation', $3, $3)",
            uuid.uuid4(), org, clock(),
        )  # fmt: skip
        for user, email in [
            (removed_user, "gone@example.com"),
            (suspended_user, "paused@example.com"),
            (invited_user, "Invited@Example.com"),
        ]:
            joined = await auto_join_on_sign_in(
                conn, user_id=user, email=email, email_verified=True, now=clock()
            )
            assert joined == []
        unverified = await create_user(conn, clock())
        assert (
            await auto_join_on_sign_in(
                conn, user_id=unverified, email="new@example.com", email_verified=False, now=clock()
            )
            == []
        )
        for bad in ("no-at-sign", "x@", "x@not a domain", None):
            assert (
                await auto_join_on_sign_in(
                    conn, user_id=unverified, email=bad, email_verified=True, now=clock()
                )
                == []
            )
        newcomer = await auto_join_on_sign_in(
            conn, user_id=unverified, email="New@EXAMPLE.com", email_verified=True, now=clock()
        )
        assert len(newcomer) == 1
    statuses = await pool.fetch(
        "SELECT status FROM memberships WHERE org_id = $1 ORDER BY created_at, status", org
    )
    assert sorted(r["status"] for r in statuses) == [
        "active",
        "invited",
        "removed",
        "suspended",
    ]
