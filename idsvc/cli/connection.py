"""The one way a command reaches the database: the configured URL or the embedded server,
one connection, closed whatever happens."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from idsvc import db
from idsvc.db.locate import database_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from idsvc.settings import Settings

__all__ = ["connected"]


@asynccontextmanager
async def connected(settings: Settings) -> AsyncIterator[db.Connection]:
    async with database_url(settings) as dsn:
        conn = await db.connect(dsn)
        try:
            yield conn
        finally:
            await conn.close()
