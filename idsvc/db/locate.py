"""Where the database is: ``IDSVC_DATABASE_URL``, or the embedded server in the data folder.

Both give a DSN; everything after that is the same asyncpg code path.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from idsvc.db.embedded import EmbeddedPostgres

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from idsvc.settings import Settings

__all__ = ["database_url"]


@asynccontextmanager
async def database_url(settings: Settings) -> AsyncIterator[str]:
    if settings.database_url is not None:
        yield settings.database_url
        return
    # Starting PostgreSQL blocks for about a second; keep the event loop free meanwhile.
    server = await asyncio.to_thread(EmbeddedPostgres, settings.data_dir / "postgres")
    try:
        yield server.url
    finally:
        await asyncio.to_thread(server.stop)
