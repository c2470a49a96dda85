"""Audit trail throughput: events/s with 1 and 32 concurrent writers, against plain INSERTs
of the same row into an unaudited table measured in the same run, plus the sealer's rate.

    python bench/audit.py [--seconds 3]

Each writer commits one transaction per event (the realistic case: one business change,
one event). The sealer runs during the audited measurement, as it does in the service.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from idsvc import db
from idsvc.audit import record_event, seal_pending, verify_chain

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

try:
    from bench._pg import scratch_database
except ModuleNotFoundError:  # run as a script: bench/ is on sys.path, not the repo root
    from _pg import scratch_database  # type: ignore[no-redef]

PLAIN_TABLE = """
CREATE TABLE bench_plain (
    seq bigserial PRIMARY KEY, occurred_at timestamptz NOT NULL, actor text NOT NULL,
    action text NOT NULL, target text NOT NULL, data jsonb NOT NULL
)
"""
PLAIN_INSERT = (
    "INSERT INTO bench_plain (occurred_at, actor, action, target, data) "
    "VALUES ($1, $2, $3, $4, $5) RETURNING seq"
)
DATA = {"org": "0b8f7a52-61c1-4b0e-9d5e-3b1f8f1f6a11", "role": "member", "source": "scim"}


async def measure(
    pool: db.Pool, writers: int, seconds: float, write: Callable[[db.Connection], Awaitable[object]]
) -> float:
    deadline = time.perf_counter() + seconds
    counts = [0] * writers

    async def writer(n: int) -> None:
        while time.perf_counter() < deadline:
            async with pool.acquire() as conn, conn.transaction():
                await write(conn)
            counts[n] += 1

    started = time.perf_counter()
    await asyncio.gather(*(writer(n) for n in range(writers)))
    return sum(counts) / (time.perf_counter() - started)


async def plain(conn: db.Connection) -> None:
    await conn.fetchval(PLAIN_INSERT, datetime.now(UTC), "user:42", "org.member.added", "m:1", DATA)


async def audited(conn: db.Connection) -> None:
    await record_event(
        conn,
        at=datetime.now(UTC),
        actor="user:42",
        action="org.member.added",
        target="m:1",
        data=DATA,
    )


async def sealer_loop(pool: db.Pool, stop: asyncio.Event) -> None:
    async with pool.acquire() as conn:
        while not stop.is_set():
            if not await seal_pending(conn):
                await asyncio.sleep(0.05)


async def main(seconds: float) -> None:
    async with scratch_database() as url:
        pool = await db.create_pool(url, min_size=34, max_size=34)
        await pool.execute(PLAIN_TABLE)
        rows = []
        for writers in (1, 32):
            plain_rate = await measure(pool, writers, seconds, plain)
            stop = asyncio.Event()
            sealing = asyncio.create_task(sealer_loop(pool, stop))
            audit_rate = await measure(pool, writers, seconds, audited)
            stop.set()
            await sealing
            rows.append((writers, plain_rate, audit_rate))

        # Sealer alone on a backlog: how fast the chain catches up after a burst.
        async with pool.acquire() as conn:
            while await seal_pending(conn):
                pass
        backlog = 20_000
        async with pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                "INSERT INTO audit_events (occurred_at, actor, action, target, data) "
                "VALUES ($1, 'user:42', 'bench', 't', $2)",
                [(datetime.now(UTC), DATA)] * backlog,
            )
        started = time.perf_counter()
        async with pool.acquire() as conn:
            while await seal_pending(conn, batch_size=5_000):
                pass
        seal_rate = backlog / (time.perf_counter() - started)
        async with pool.acquire() as conn:
            started = time.perf_counter()
            report = await verify_chain(conn)
            verify_rate = report.checked / (time.perf_counter() - started)
        assert report.ok, report.problem
        await pool.close()

    print(f"audit trail throughput ({seconds:.0f} s per measurement, one transaction per event)")
    print(f"{'writers':>8} {'plain INSERT/s':>15} {'audited events/s':>17} {'ratio':>6}")
    for writers, plain_rate, audit_rate in rows:
        ratio = audit_rate / plain_rate
        print(f"{writers:>8} {plain_rate:>15,.0f} {audit_rate:>17,.0f} {ratio:>6.2f}")
    print(f"sealer on a {backlog:,}-event backlog: {seal_rate:,.0f} events/s")
    print(f"audit verify: {verify_rate:,.0f} events/s over {report.checked:,} events")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    asyncio.run(main(parser.parse_args().seconds))
