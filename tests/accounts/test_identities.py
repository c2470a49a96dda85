"""The first sign-in of an identity, twice at once (a double click, two tabs, two
instances): both succeed, as the same user."""

from __future__ import annotations

import asyncio

from idsvc import db
from idsvc.accounts.users import User, sign_in_identity
from tests.support.clock import FakeClock


async def test_two_first_sign_ins_of_one_identity_at_once_give_one_user(
    pool: db.Pool, clock: FakeClock
) -> None:
    async def first_sign_in() -> User:
        async with db.transaction(pool) as conn:
            user, _ = await sign_in_identity(
                conn,
                provider="demo",
                subject="same-person",
                email="same@example.com",
                email_verified=True,
                display_name=None,
                link_to=None,
                now=clock(),
            )
            # Hold the transaction a moment, as a real sign-in does while it records
            # attestations, so the other one really runs alongside.
            await asyncio.sleep(0.05)
            return user

    for _ in range(5):
        users = await asyncio.gather(*(first_sign_in() for _ in range(8)))
        assert len({u.id for u in users}) == 1
    assert await pool.fetchval("SELECT count(*) FROM users") == 1
    assert await pool.fetchval("SELECT count(*) FROM identities") == 1
