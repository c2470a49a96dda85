"""Status slots on a real database: random, contention-free allocation with rollover, and
every revocation path setting exactly the tokens that depended on what changed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from idsvc import db
from idsvc.attestations.mapping import AttestationDraft
from idsvc.attestations.store import record_attestations, revoke_attestation
from idsvc.config.oauth import OAuthSettings
from idsvc.oauth.grants import create_grant, revoke_grant
from idsvc.orgs.members.service import set_member_status
from idsvc.tokens.status_slots import StatusAllocator, StatusSlot
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org, create_user
from tests.support.four_eyes import ONE_OPERATOR


async def slot(
    pool: db.Pool,
    allocator: StatusAllocator,
    clock: FakeClock,
    user: uuid.UUID,
    *,
    org: uuid.UUID | None = None,
    grant: uuid.UUID | None = None,
    kid: str = "k1",
    lifetime: int = 300,
) -> StatusSlot:
    async with db.transaction(pool) as conn:
        return await allocator.allocate(
            conn, user_id=user, org_id=org, grant_id=grant, kid=kid, jti=uuid.uuid4().hex,
            expires_at=clock() + timedelta(seconds=lifetime), now=clock(),
        )  # fmt: skip


async def status_of(pool: db.Pool, s: StatusSlot) -> int:
    value: int = await pool.fetchval(
        "SELECT status FROM token_statuses WHERE list_id = $1 AND idx = $2", s.list_id, s.idx
    )
    return value


async def test_concurrent_issuers_get_distinct_slots(pool: db.Pool, clock: FakeClock) -> None:
    async with db.transaction(pool) as conn:
        user = await create_user(conn, clock())
    # Each task is its own instance (its own allocator), all issuing at once.
    slots = await asyncio.gather(
        *(slot(pool, StatusAllocator(256), clock, user) for _ in range(120))
    )
    assert len({(s.list_id, s.idx) for s in slots}) == len(slots)
    assert all(0 <= s.idx < 256 for s in slots)
    per_list = await pool.fetch(
        "SELECT list_id, count(*) AS n FROM token_statuses GROUP BY list_id"
    )
    assert all(row["n"] <= 256 for row in per_list)


async def test_slots_are_random_and_full_lists_roll_over(pool: db.Pool, clock: FakeClock) -> None:
    async with db.transaction(pool) as conn:
        user = await create_user(conn, clock())
    allocator = StatusAllocator(list_size=64)
    slots = [await slot(pool, allocator, clock, user) for _ in range(150)]
    assert len({(s.list_id, s.idx) for s in slots}) == 150
    lists = await pool.fetch("SELECT id, full_at FROM status_lists ORDER BY id")
    assert len(lists) >= 3  # 150 tokens cannot fit in two 64-slot lists
    assert all(row["full_at"] is not None for row in lists[:-1])
    assert lists[-1]["full_at"] is None
    first = [s.idx for s in slots if s.list_id == lists[0]["id"]]
    # Drawn at random: the order of issuance is not the order of the indices.
    assert first[:20] != sorted(first[:20])


async def test_each_change_reaches_exactly_the_tokens_that_depended_on_it(
    pool: db.Pool, clock: FakeClock
) -> None:
    allocator = StatusAllocator(list_size=1024)
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock())
        admin = await create_user(conn, clock())
        alice = await create_user(conn, clock())
        bob = await create_user(conn, clock())
        await add_member(conn, clock(), org, admin, role="admin")
        alice_m = await add_member(conn, clock(), org, alice)
        await add_member(conn, clock(), org, bob)
    alice_org = await slot(pool, allocator, clock, alice, org=org)
    alice_plain = await slot(pool, allocator, clock, alice)  # a policy without an org
    bob_org = await slot(pool, allocator, clock, bob, org=org)
    expired = await slot(pool, allocator, clock, alice, org=org, lifetime=1)
    clock.advance(5)

    async with db.transaction(pool) as conn:
        await set_member_status(
            conn, org_id=org, membership_id=alice_m.id, status="suspended", actor="t", now=clock()
        )
    assert [await status_of(pool, s) for s in (alice_org, alice_plain, bob_org, expired)] == [
        2,
        0,
        0,
        0,
    ]

    # The organisation is suspended too; reinstating it must not wake a suspended member.
    async with db.transaction(pool) as conn:
        await conn.execute("UPDATE organisations SET status = 'approved' WHERE id = $1", org)
        from idsvc.orgs.vetting.organisations import set_org_status

        await set_org_status(
            conn,
            org_id=org,
            status="suspended",
            reason="re-screening",
            actor="t",
            now=clock(),
            four_eyes=True,
            rule=ONE_OPERATOR,
            list_max_age=None,
        )
    assert [await status_of(pool, s) for s in (alice_org, bob_org)] == [2, 2]
    async with db.transaction(pool) as conn:
        await set_org_status(
            conn,
            org_id=org,
            status="approved",
            reason="cleared",
            actor="t",
            now=clock(),
            four_eyes=True,
            rule=ONE_OPERATOR,
            list_max_age=None,
        )
    assert [await status_of(pool, s) for s in (alice_org, bob_org)] == [2, 0]
    async with db.transaction(pool) as conn:
        await set_member_status(
            conn, org_id=org, membership_id=alice_m.id, status="active", actor="t", now=clock()
        )
    assert await status_of(pool, alice_org) == 0

    # Removal is final: reinstating cannot bring the token back.
    async with db.transaction(pool) as conn:
        await set_member_status(
            conn, org_id=org, membership_id=alice_m.id, status="removed", actor="t", now=clock()
        )
    assert [await status_of(pool, s) for s in (alice_org, alice_plain)] == [1, 0]
    events = await pool.fetch(
        "SELECT action, data FROM audit_events WHERE action LIKE 'token.status.%' ORDER BY seq"
    )
    assert [e["action"] for e in events] == [
        "token.status.suspended",
        "token.status.suspended",
        "token.status.valid",
        "token.status.valid",
        "token.status.invalid",
    ]
    versions = await pool.fetchval("SELECT version FROM status_lists")
    assert versions == 5


async def test_attestation_revocation_grant_revocation_and_a_dropped_key(
    pool: db.Pool, clock: FakeClock
) -> None:
    allocator = StatusAllocator(list_size=1024)
    async with db.transaction(pool) as conn:
        alice = await create_user(conn, clock())
        bob = await create_user(conn, clock())
        await record_attestations(
            conn, user_id=alice, provider="p", now=clock(),
            drafts=[AttestationDraft(kind="nationalities", values=("US",), trust_framework="t",
                                     assurance="IAL2", verified_at=clock(),
                                     expires_at=clock() + timedelta(days=30), evidence=())],
        )  # fmt: skip
        grant, _refresh = await create_grant(
            conn, user_id=bob, client_id="c", dpop_jkt=None, settings=OAuthSettings(), now=clock()
        )
    alice_token = await slot(pool, allocator, clock, alice)
    bob_from_grant = await slot(pool, allocator, clock, bob, grant=grant.id)
    bob_browser = await slot(pool, allocator, clock, bob)
    other_key = await slot(pool, allocator, clock, bob, kid="k2")
    attestation = await pool.fetchval("SELECT id FROM attestations WHERE user_id = $1", alice)
    async with db.transaction(pool) as conn:
        await revoke_attestation(
            conn, attestation, actor="op", reason="stolen document", now=clock()
        )
        await revoke_grant(conn, grant.id, reason="lost laptop", actor="user", now=clock())
        from idsvc.tokens.revocation import revoke_key_tokens

        await revoke_key_tokens(conn, "k2", actor="op", reason="key_revoked", now=clock())
    assert [
        await status_of(pool, s) for s in (alice_token, bob_from_grant, bob_browser, other_key)
    ] == [1, 1, 0, 1]


async def test_a_burst_of_first_issuances_on_one_instance_all_get_slots(
    pool: db.Pool, clock: FakeClock
) -> None:
    """Found: the first burst on a fresh database failed on the foreign key, because the
    instance shared a list id that another, uncommitted transaction had just created."""
    async with db.transaction(pool) as conn:
        user = await create_user(conn, clock())
    allocator = StatusAllocator(list_size=1024)  # one instance, no list opened at start

    async def issue() -> StatusSlot:
        async with db.transaction(pool) as conn:
            allocated = await allocator.allocate(
                conn, user_id=user, org_id=None, grant_id=None, kid="k1", jti=uuid.uuid4().hex,
                expires_at=clock() + timedelta(seconds=300), now=clock(),
            )  # fmt: skip
            # Keep the transaction open a moment, as issuance does while it signs and
            # audits, so the others run while its list is still uncommitted.
            await asyncio.sleep(0.02)
            return allocated

    slots = await asyncio.gather(*(issue() for _ in range(64)))
    assert len({(s.list_id, s.idx) for s in slots}) == 64


async def test_a_list_opened_in_a_rolled_back_transaction_does_not_poison_the_instance(
    pool: db.Pool, clock: FakeClock
) -> None:
    async with db.transaction(pool) as conn:
        user = await create_user(conn, clock())
    allocator = StatusAllocator(list_size=1024)

    class Abandoned(Exception):
        pass

    async def abandoned_issuance() -> None:
        async with db.transaction(pool) as conn:
            await allocator.allocate(
                conn, user_id=user, org_id=None, grant_id=None, kid="k1", jti="first",
                expires_at=clock() + timedelta(seconds=300), now=clock(),
            )  # fmt: skip
            raise Abandoned

    with pytest.raises(Abandoned):
        await abandoned_issuance()
    assert await pool.fetchval("SELECT count(*) FROM status_lists") == 0
    later = [await slot(pool, allocator, clock, user) for _ in range(3)]
    assert len(later) == 3


async def test_the_service_opens_a_list_in_its_own_committed_step(
    pool: db.Pool, clock: FakeClock
) -> None:
    allocator = StatusAllocator(list_size=1024)
    await allocator.ensure_open_list(pool, clock())
    await allocator.ensure_open_list(pool, clock())  # one is open: nothing more
    assert await pool.fetchval("SELECT count(*) FROM status_lists") == 1


async def test_a_slot_being_issued_does_not_lock_its_list(pool: db.Pool, clock: FakeClock) -> None:
    """Found: each slot's foreign key to its list locked the list row (FOR KEY SHARE) until
    the issuing transaction ended. Under concurrent issuance every issuer queued on that
    one row (a new multixact per issuer), and closing a full list, which skips a locked
    row (SKIP LOCKED), could be put off for as long as issuance went on."""
    async with db.transaction(pool) as conn:
        user = await create_user(conn, clock())
    allocator = StatusAllocator(list_size=1024)
    await allocator.ensure_open_list(pool, clock())
    async with pool.acquire() as issuer, issuer.transaction():
        # An issuer still signing: its slot is in the list, its transaction open.
        held = await allocator.allocate(
            issuer, user_id=user, org_id=None, grant_id=None, kid="k1", jti="held",
            expires_at=clock() + timedelta(seconds=300), now=clock(),
        )  # fmt: skip
        async with pool.acquire() as closer, closer.transaction():
            locked = await closer.fetchval(
                "SELECT id FROM status_lists WHERE id = $1 FOR UPDATE NOWAIT", held.list_id
            )
    assert locked == held.list_id
