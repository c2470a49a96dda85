"""PostgreSQL access: the pool, its codecs, and the one helper that turns rows into structs.

SQL lives beside the function that runs it, as ``$n``-parameterised constants; callers own
transactions. ``jsonb`` travels as msgspec-encoded bytes in binary format, so no JSON text
is parsed twice.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import asyncpg
import asyncpg.pool
import msgspec

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

__all__ = [
    "Connection",
    "Pool",
    "connect",
    "create_pool",
    "is_database_outage",
    "row_to",
    "rows_to",
    "transaction",
]

# Pooled connections are proxies; both kinds offer the same query API. The stubs make
# these generic for mypy, while Litestar evaluates annotations at run time, where the
# classes are not subscriptable: hence two spellings of the same aliases.
if TYPE_CHECKING:
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]
    Connection: TypeAlias = (
        asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
    )
else:
    Pool = asyncpg.Pool
    Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

T = TypeVar("T")

# jsonb's binary wire format is a version byte (1) followed by the JSON text.
_JSONB_VERSION = b"\x01"


def _encode_jsonb(value: object) -> bytes:
    return _JSONB_VERSION + msgspec.json.encode(value)


def _decode_jsonb(data: bytes) -> object:
    return msgspec.json.decode(data[1:])


async def init_connection(conn: Connection) -> None:
    """Register codecs on every new connection."""
    await conn.set_type_codec(
        "jsonb",
        encoder=_encode_jsonb,
        decoder=_decode_jsonb,
        schema="pg_catalog",
        format="binary",
    )


async def _keep_session(conn: Connection) -> None:
    """Released connections skip asyncpg's reset query (``RESET ALL; UNLISTEN *; ...``),
    one round trip per request on the token hot path. Safe because idsvc leaves no session
    state on pooled connections: no SET, no session-level advisory locks (migrations use
    their own connection; everything else takes transaction-level locks), no WITH HOLD
    cursors, and listeners are removed (with UNLISTEN) by their owners. asyncpg still
    rolls back a transaction left open and drops listener callbacks before this runs."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 20, **kwargs: Any) -> Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=_keep_session,
        **kwargs,
    )
    assert pool is not None  # create_pool only returns None when awaited lazily
    return pool


async def connect(dsn: str) -> Connection:
    """A single connection with the same codecs, for the CLI and migrations."""
    conn: Connection = await asyncpg.connect(dsn)
    await init_connection(conn)
    return conn


@asynccontextmanager
async def transaction(pool: Pool) -> AsyncIterator[Connection]:
    """A pooled connection inside a transaction: commit on success, roll back on error."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn


def row_to(struct_type: type[T], row: asyncpg.Record | None) -> T | None:
    """Convert one record to a typed struct (by column name), or None."""
    if row is None:
        return None
    return msgspec.convert(dict(row.items()), struct_type)


def rows_to(struct_type: type[T], rows: Iterable[asyncpg.Record]) -> list[T]:
    return [msgspec.convert(dict(row.items()), struct_type) for row in rows]


# What a lost or unusable database looks like from here: refused or cut connections, a
# server shutting down or starting up, no connection slot, a standby after a failover
# (read-only), a pool that cannot hand out a connection in time.
_OUTAGE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
    # Seen when the server drops a connection in the middle of an operation (a restart
    # under load: "cannot switch to state 15; another operation is in progress").
    asyncpg.exceptions.InternalClientError,
)


# Two transactions that each waited for the other (PostgreSQL aborts one), or a
# serialisable read that a concurrent commit invalidated: nothing of the aborted one was
# kept, and trying again succeeds. Rare (lock orders are kept where they are known), but
# possible between paths that lock several rows: answered as a retryable 503, never a 500.
_TRANSIENT_CONFLICT: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)


def is_transient_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` aborted a transaction only because of a concurrent one."""
    return isinstance(exc, _TRANSIENT_CONFLICT)


def is_database_outage(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is unreachable now (answer 503 and let the client
    retry), as opposed to a bug (500)."""
    if isinstance(exc, _OUTAGE):
        return True
    # asyncpg reports a connection that died under a pooled holder as an InterfaceError
    # ("connection is closed", "... released back to the pool"); other InterfaceErrors
    # are misuse and stay errors.
    return isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)
