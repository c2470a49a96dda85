"""``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

from litestar import Response, get
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from idsvc.db.database import Database
from idsvc.health.service import check_ready
from idsvc.http.inject import Injected
from idsvc.http.openapi import documented
from idsvc.settings import Settings

__all__ = ["routes"]


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is up and answering; says nothing about its dependencies."""
    return {"status": "ok"}


@get("/readyz")
async def readyz(
    *, database: Injected[Database], settings: Injected[Settings]
) -> Response[dict[str, object]]:
    """Ready when the database answers and every migration this build knows is applied."""
    await check_ready(database, settings.migrations_dir)
    return Response({"status": "ready"}, status_code=200)


@get("/metrics", opt=documented(returns=("text/plain",)))
async def metrics(*, registry: Injected[CollectorRegistry]) -> Response[bytes]:
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


routes = [healthz, readyz, metrics]
