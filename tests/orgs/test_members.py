"""Membership state, roles and the at-least-one-admin rule, on a real database."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from idsvc import db
from idsvc.errors import Conflict, Forbidden, NotFound
from idsvc.orgs.access import require_org_admin
from idsvc.orgs.members.errors import LastAdmin
from idsvc.orgs.members.service import enrol_member, set_member_role, set_member_status
from idsvc.orgs.records import MemberStatus
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org, create_user


async def test_the_last_admin_can_be_neither_removed_nor_demoted(
    pool: db.Pool, clock: FakeClock
) -> None:
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        admin = await add_member(conn, clock(), org, await create_user(conn, clock()), role="admin")
    async with pool.acquire() as conn:
        with pytest.raises(Conflict) as removed:
            async with conn.transaction():
                await set_member_status(
                    conn,
                    org_id=org,
                    membership_id=admin.id,
                    status="removed",
                    actor="t",
                    now=clock(),
                )
        with pytest.raises(Conflict) as demoted:
            async with conn.transaction():
                await set_member_role(
                    conn, org_id=org, membership_id=admin.id, role="member", actor="t", now=clock()
                )
    assert removed.value.code == demoted.value.code == "last_admin"


async def test_an_admin_address_nobody_signed_in_with_does_not_count(
    pool: db.Pool, clock: FakeClock
) -> None:
    """Issue 24: an admin membership nobody has claimed is an e-mail address, not an admin:
    if it counted, removing the last real admin would hand the organisation to whoever
    verifies that address. It can go; the admin who has signed in cannot."""
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        admin = await add_member(conn, clock(), org, await create_user(conn, clock()), role="admin")
        unclaimed = await enrol_member(
            conn, org_id=org, email="mallory@evil.example", user_id=None, role="admin",
            status="active", source="csv", actor="t", now=clock(),
        )  # fmt: skip
    async with pool.acquire() as conn:
        statuses: tuple[MemberStatus, ...] = ("removed", "suspended")
        for status in statuses:
            with pytest.raises(LastAdmin, match="Acme Analytics"):
                async with conn.transaction():
                    await set_member_status(
                        conn, org_id=org, membership_id=admin.id, status=status, actor="t",
                        now=clock(),
                    )  # fmt: skip
        with pytest.raises(LastAdmin):
            async with conn.transaction():
                await set_member_role(
                    conn, org_id=org, membership_id=admin.id, role="member", actor="t", now=clock()
                )
        async with conn.transaction():
            await set_member_status(
                conn, org_id=org, membership_id=unclaimed.id, status="removed", actor="t",
                now=clock(),
            )  # fmt: skip
    assert await pool.fetchval("SELECT status FROM memberships WHERE id = $1", admin.id) == "active"


async def test_two_admins_demoting_each_other_at_once_leave_one(
    pool: db.Pool, clock: FakeClock
) -> None:
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        first = await add_member(conn, clock(), org, await create_user(conn, clock()), role="admin")
        second = await add_member(
            conn, clock(), org, await create_user(conn, clock()), role="admin"
        )

    async def demote(membership_id: uuid.UUID) -> str:
        try:
            async with db.transaction(pool) as conn:
                await set_member_role(
                    conn,
                    org_id=org,
                    membership_id=membership_id,
                    role="member",
                    actor="t",
                    now=clock(),
                )
        except Conflict as exc:
            return exc.code
        return "ok"

    outcomes = await asyncio.gather(demote(first.id), demote(second.id))
    assert sorted(outcomes) == ["last_admin", "ok"]
    admins = await pool.fetchval(
        "SELECT count(*) FROM memberships WHERE org_id = $1 AND role = 'admin'", org
    )
    assert admins == 1


async def test_states_move_only_along_the_allowed_transitions(
    pool: db.Pool, clock: FakeClock
) -> None:
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        await add_member(conn, clock(), org, await create_user(conn, clock()), role="admin")
        member = await add_member(conn, clock(), org, await create_user(conn, clock()))
        suspended = await set_member_status(
            conn, org_id=org, membership_id=member.id, status="suspended", actor="t", now=clock()
        )
        again = await set_member_status(
            conn, org_id=org, membership_id=member.id, status="suspended", actor="t", now=clock()
        )
        await set_member_status(
            conn, org_id=org, membership_id=member.id, status="removed", actor="t", now=clock()
        )
    assert suspended.status == again.status == "suspended"
    events = await pool.fetch(
        "SELECT action FROM audit_events WHERE target = $1 ORDER BY seq", f"org:{org}"
    )
    # The repeated suspension changed nothing and so recorded nothing.
    assert [e["action"] for e in events][-2:] == ["org.member.suspended", "org.member.removed"]
    async with pool.acquire() as conn:
        with pytest.raises(Conflict):
            async with conn.transaction():
                await set_member_status(
                    conn,
                    org_id=org,
                    membership_id=member.id,
                    status="active",
                    actor="t",
                    now=clock(),
                )


async def test_a_removed_person_can_be_enrolled_again_but_not_twice(
    pool: db.Pool, clock: FakeClock
) -> None:
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        await add_member(conn, clock(), org, await create_user(conn, clock()), role="admin")
        first = await enrol_member(
            conn,
            org_id=org,
            email="Ada@Example.com",
            user_id=None,
            role="member",
            status="invited",
            source="csv",
            actor="t",
            now=clock(),
        )
        assert first.email == "ada@example.com"
        await set_member_status(
            conn, org_id=org, membership_id=first.id, status="removed", actor="t", now=clock()
        )
        await enrol_member(
            conn,
            org_id=org,
            email="ada@example.com",
            user_id=None,
            role="member",
            status="invited",
            source="csv",
            actor="t",
            now=clock(),
        )
    async with pool.acquire() as conn:
        with pytest.raises(Conflict):
            async with conn.transaction():
                await enrol_member(
                    conn,
                    org_id=org,
                    email="ADA@example.com",
                    user_id=None,
                    role="member",
                    status="invited",
                    source="csv",
                    actor="t",
                    now=clock(),
                )


async def test_another_organisations_membership_is_not_found(
    pool: db.Pool, clock: FakeClock
) -> None:
    async with db.transaction(pool) as conn:
        mine = await create_org(conn, clock())
        theirs = await create_org(conn, clock(), name="Other Corp")
        their_member = await add_member(conn, clock(), theirs, await create_user(conn, clock()))
    async with pool.acquire() as conn:
        with pytest.raises(NotFound):
            async with conn.transaction():
                await set_member_status(
                    conn,
                    org_id=mine,
                    membership_id=their_member.id,
                    status="removed",
                    actor="t",
                    now=clock(),
                )
    status = await pool.fetchval("SELECT status FROM memberships WHERE id = $1", their_member.id)
    assert status == "active"


async def test_only_active_admins_and_operators_administer_an_organisation(
    pool: db.Pool, clock: FakeClock
) -> None:
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        admin = await create_user(conn, clock())
        member = await create_user(conn, clock())
        stranger = await create_user(conn, clock(), subject="op-1")
        await add_member(conn, clock(), org, admin, role="admin")
        await add_member(conn, clock(), org, member)

        def administer(user: uuid.UUID, operators: tuple[str, ...] = ()) -> Any:
            return require_org_admin(
                conn, org_id=org, user_id=user, operators=operators, action="read"
            )

        assert await administer(admin) == "admin"
        with pytest.raises(Forbidden):
            await administer(member)
        with pytest.raises(NotFound):
            await administer(stranger)
        assert await administer(stranger, ("test:op-1",)) == "operator"
        with pytest.raises(NotFound):  # an organisation that does not exist, even to operators
            await require_org_admin(
                conn, org_id=uuid.uuid4(), user_id=stranger, operators=("test:op-1",), action="read"
            )
