"""The service's database handle: the pool once the lifespan opened it, and the one rule
for what a request's transaction does when a handler raises."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from idsvc.db.pool import Connection, Pool
from idsvc.errors import AuditedRefusal, Unavailable

__all__ = ["Database"]


class Database:
    """Fail closed: before the lifespan attached a pool (and after it closed it) every use
    raises ``Unavailable``: without a database there is no decision and no token."""

    __slots__ = ("_pool",)

    def __init__(self) -> None:
        self._pool: Pool | None = None

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            raise Unavailable("the database is not available")
        return self._pool

    def maybe_pool(self) -> Pool | None:
        return self._pool

    def attach(self, pool: Pool | None) -> None:
        self._pool = pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection without a transaction (reads that lock nothing)."""
        async with self.pool.acquire() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection in a transaction that commits when the block ends normally
        *or* raises an ``AuditedRefusal`` (a refusal whose audit event, and what it
        changed, must be kept), and rolls back on any other exception."""
        async with self.pool.acquire() as conn, keeping_refusals(conn):
            yield conn


@asynccontextmanager
async def keeping_refusals(conn: Connection) -> AsyncIterator[None]:
    """A transaction (a savepoint, inside another) that commits when the block ends
    normally *or* raises an ``AuditedRefusal``, and rolls back on any other exception: a
    console form that answers a refusal with its page keeps the refusal's audit event."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        yield
    except AuditedRefusal:
        await transaction.commit()
        raise
    except BaseException:
        await transaction.rollback()
        raise
    await transaction.commit()
