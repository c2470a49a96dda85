from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient


async def test_healthz(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_database_is_current(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text


async def test_readyz_fails_closed_when_a_migration_is_pending(
    client: AsyncTestClient[Litestar], database_url: str
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("DELETE FROM schema_migrations WHERE version = 1")
    finally:
        await conn.close()
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["type"] == "urn:idsvc:problem:migrations_pending"


async def test_metrics_count_requests_by_route_template(client: AsyncTestClient[Litestar]) -> None:
    await client.get("/healthz")
    await client.get("/does-not-exist/12345")
    text = (await client.get("/metrics")).text
    assert 'idsvc_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="unmatched",status="404"' in text
    assert "12345" not in text
    assert "idsvc_http_request_duration_seconds_bucket" in text
    assert "idsvc_db_pool_connections" in text


async def test_request_id_is_echoed_only_when_safe(client: AsyncTestClient[Litestar]) -> None:
    ok = await client.get("/healthz", headers={"x-request-id": "abcDEF12-34"})
    assert ok.headers["x-request-id"] == "abcDEF12-34"
    bad = await client.get("/healthz", headers={"x-request-id": "<script>alert(1)</script>"})
    assert bad.headers["x-request-id"] != "<script>alert(1)</script>"


async def test_metrics_show_the_restricted_party_lists_age(
    client: AsyncTestClient[Litestar],
) -> None:
    # No list was ever imported: infinitely old, which an alert on the age catches too.
    text = (await client.get("/metrics")).text
    assert "idsvc_screening_list_age_seconds +Inf" in text
    assert (await client.get("/readyz")).status_code == 200  # readiness does not depend on it
