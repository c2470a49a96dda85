"""A scratch PostgreSQL database for a benchmark: IDSVC_TEST_DATABASE_URL or embedded."""

from __future__ import annotations

import os
import tempfile
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from idsvc import db
from idsvc.db.migrate import apply_migrations

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A freshly migrated database, dropped afterwards."""
    server = None
    admin_url = os.environ.get("IDSVC_TEST_DATABASE_URL")
    if not admin_url:
        from idsvc.db.embedded import EmbeddedPostgres

        server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="idsvc-bench-")))
        admin_url = server.url
    name = f"idsvc_bench_{uuid.uuid4().hex[:8]}"
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        conn = await db.connect(url)
        await apply_migrations(conn)
        await conn.close()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
        if server is not None:
            server.stop()
