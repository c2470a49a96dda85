"""The one way a command reaches the database: the configured URL or the embedded server,
one connection, closed whatever happens."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg

from idsvc import db
from idsvc.db.locate import database_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from idsvc.settings import Settings

__all__ = ["connected"]


@asynccontextmanager
async def connected(settings: Settings) -> AsyncIterator[db.Connection]:
    async with database_url(settings) as dsn:
        try:
            conn = await db.connect(dsn)
        except Exception as exc:
            # A server that is down or unknown, or one that refuses this database, role or
            # password, is a setting for the operator to fix, not a bug: one line naming
            # the cause (never the URL, which may hold a password), no traceback, and 2 as
            # for a configuration error (1 is a verification's "found a problem").
            if not (db.is_database_outage(exc) or isinstance(exc, asyncpg.PostgresError)):
                raise
            cause = " ".join(str(exc).split()) or type(exc).__name__
            print(f"idsvc: cannot connect to the database: {cause}", file=sys.stderr)
            raise SystemExit(2) from None
        try:
            yield conn
        finally:
            await conn.close()
