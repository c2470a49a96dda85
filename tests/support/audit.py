"""Audit events written by concurrent writers, sealed, and tampered with as a superuser
would, for the audit chain's tests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from idsvc import db
from idsvc.audit import record_event, seal_pending

__all__ = ["T0", "seal_all", "tamper", "write_events"]

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


async def write_events(pool: db.Pool, *, writers: int, per_writer: int) -> None:
    async def writer(n: int) -> None:
        for i in range(per_writer):
            async with db.transaction(pool) as conn:
                await record_event(
                    conn,
                    at=T0 + timedelta(milliseconds=i),
                    actor=f"user:{n}",
                    action="test.event",
                    target=f"thing:{n}:{i}",
                    data={"i": i, "nested": {"b": 1, "a": [1, 2]}},
                )

    await asyncio.gather(*(writer(n) for n in range(writers)))


async def seal_all(pool: db.Pool) -> int:
    total = 0
    async with pool.acquire() as conn:
        while sealed := await seal_pending(conn, batch_size=300):
            total += sealed
    return total


async def tamper(pool: db.Pool, sql: str, *args: object) -> None:
    """Change rows as a superuser would: with triggers switched off for the session."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(sql, *args)
