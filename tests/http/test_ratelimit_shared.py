"""A limit of N a minute allows N across every instance, not N at each.

Found: counters were per instance, so every limit (sign-in, token requests, device-code
guesses, each client's budget) multiplied by the number of instances."""

from __future__ import annotations

import pytest

from idsvc import db
from idsvc.errors import RateLimited
from idsvc.http.ratelimit import RateLimiter
from tests.support.clock import FakeClock


def instance(pool: db.Pool, clock: FakeClock, per_minute: int = 5) -> RateLimiter:
    """One instance's limiter: its own memory, the shared database."""
    return RateLimiter(
        scope="token", per_minute=per_minute, pool=lambda: pool, clock=clock.timestamp
    )


async def test_two_instances_share_one_budget(pool: db.Pool, clock: FakeClock) -> None:
    first, second = instance(pool, clock), instance(pool, clock)
    for limiter in (first, second, first, second, first):
        await limiter.hit("user:1")
    for limiter in (second, first):
        with pytest.raises(RateLimited) as refused:
            await limiter.hit("user:1")
        assert refused.value.retry_after > 0
    await first.hit("user:2")  # another key has its own budget
    clock.advance(60)  # the next minute starts afresh everywhere
    await second.hit("user:1")


async def test_counting_inside_the_callers_transaction(pool: db.Pool, clock: FakeClock) -> None:
    limiter = instance(pool, clock, per_minute=2)
    async with db.transaction(pool) as conn:
        await limiter.hit("user:9", conn=conn)
    async with db.transaction(pool) as conn:
        await limiter.hit("user:9", conn=conn)
    with pytest.raises(RateLimited):
        await instance(pool, clock, per_minute=2).hit("user:9")


async def test_large_budgets_are_leased_and_never_exceeded(pool: db.Pool, clock: FakeClock) -> None:
    """A budget of 1,000 a minute is counted ten at a time (one round trip per ten
    attempts); across two instances no more than 1,000 pass, and at most the two
    instances' unspent leases (9 each) are refused early."""
    first, second = instance(pool, clock, 1000), instance(pool, clock, 1000)
    for _ in range(25):
        await first.hit("client:busy")
    counted = await pool.fetchval(
        "SELECT hits FROM rate_counters WHERE bucket = 'token:client:busy'"
    )
    assert counted == 30  # three leases of ten, five attempts still unspent

    allowed = 25
    for n in range(2000):
        limiter = (first, second)[n % 2]
        try:
            await limiter.hit("client:busy")
        except RateLimited:
            continue
        allowed += 1
    assert 1000 - 2 * 9 <= allowed <= 1000
