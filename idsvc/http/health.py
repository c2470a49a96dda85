"""Liveness, readiness and metrics endpoints for orchestrators and Prometheus."""

from __future__ import annotations

import asyncio

from litestar import Response, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from idsvc.errors import Unavailable
from idsvc.migrate import MigrationError, pending_migrations
from idsvc.runtime import RuntimeDependency

__all__ = ["healthz", "metrics", "readyz"]

_READY_TIMEOUT = 2.0


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is up and answering; says nothing about its dependencies."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz(runtime: RuntimeDependency) -> Response[dict[str, object]]:
    """Ready when the database answers and every migration this build knows is applied."""
    try:
        async with asyncio.timeout(_READY_TIMEOUT), runtime.pool.acquire() as conn:
            pending = await pending_migrations(conn, runtime.settings.migrations_dir)
    except (Unavailable, OSError, TimeoutError):
        raise Unavailable("the database is not reachable", code="database_unreachable") from None
    except MigrationError as exc:
        raise Unavailable(str(exc), code="migrations_drifted") from None
    if pending:
        raise Unavailable(f"{len(pending)} migration(s) not applied", code="migrations_pending")
    return Response({"status": "ready"}, status_code=200)


@get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDependency) -> Response[bytes]:
    return Response(generate_latest(runtime.registry), media_type=CONTENT_TYPE_LATEST)
