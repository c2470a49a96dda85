"""Liveness, readiness and metrics endpoints for orchestrators and Prometheus."""

from __future__ import annotations

import asyncio
import logging

from litestar import Response, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from idsvc.db import is_database_outage
from idsvc.db.migrate import MigrationError, pending_migrations
from idsvc.errors import Unavailable
from idsvc.http.errors import DatabaseUnreachable, MigrationsDrifted, MigrationsPending
from idsvc.http.openapi import documented
from idsvc.runtime import RuntimeDependency

__all__ = ["healthz", "metrics", "readyz"]

_READY_TIMEOUT = 2.0
_log = logging.getLogger("idsvc.health")


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is up and answering; says nothing about its dependencies."""
    return {"status": "ok"}


@get("/readyz")
async def readyz(runtime: RuntimeDependency) -> Response[dict[str, object]]:
    """Ready when the database answers and every migration this build knows is applied."""
    try:
        async with asyncio.timeout(_READY_TIMEOUT), runtime.pool.acquire() as conn:
            pending = await pending_migrations(conn, runtime.settings.migrations_dir)
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
    return Response({"status": "ready"}, status_code=200)


@get("/metrics", opt=documented(returns=("text/plain",)))
async def metrics(runtime: RuntimeDependency) -> Response[bytes]:
    return Response(generate_latest(runtime.registry), media_type=CONTENT_TYPE_LATEST)
