"""Readiness: the database answers within a bound, and every migration this build knows
is applied."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from idsvc.db import is_database_outage
from idsvc.db.database import Database
from idsvc.db.migrate import MigrationError, pending_migrations
from idsvc.errors import Unavailable
from idsvc.health.errors import DatabaseUnreachable, MigrationsDrifted, MigrationsPending

__all__ = ["check_ready"]

_READY_TIMEOUT = 2.0
_log = logging.getLogger("idsvc.health")


async def check_ready(database: Database, migrations_dir: Path) -> None:
    """Raises a 503 problem saying why the instance is not ready."""
    try:
        async with asyncio.timeout(_READY_TIMEOUT), database.connection() as conn:
            pending = await pending_migrations(conn, migrations_dir)
    except MigrationError as exc:
        raise MigrationsDrifted(str(exc)) from None
    except Exception as exc:
        # Not ready whatever the failure (a server shutting down answers in many ways):
        # 503, never 500, so the orchestrator takes the instance out of rotation and
        # leaves it running to recover by itself.
        if not (isinstance(exc, Unavailable) or is_database_outage(exc)):
            _log.warning("readiness check failed", extra={"error": type(exc).__name__})
        raise DatabaseUnreachable("the database is not reachable") from None
    if pending:
        raise MigrationsPending(f"{len(pending)} migration(s) not applied")
