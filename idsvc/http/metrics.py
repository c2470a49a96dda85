"""Prometheus metrics, in a registry per app so several apps (tests) never share state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime

    from idsvc.db import Pool

__all__ = ["HttpMetrics", "PoolCollector", "ScreeningListCollector"]


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "idsvc_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "idsvc_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)


class PoolCollector(Collector):
    """Reads pool usage at scrape time; nothing runs between scrapes."""

    def __init__(self, pool: Callable[[], Pool | None]) -> None:
        self._pool = pool

    def collect(self) -> Iterator[Metric]:
        pool = self._pool()
        if pool is None:
            return
        size = GaugeMetricFamily("idsvc_db_pool_connections", "Open pool connections.")
        size.add_metric([], pool.get_size())
        idle = GaugeMetricFamily("idsvc_db_pool_idle_connections", "Idle pool connections.")
        idle.add_metric([], pool.get_idle_size())
        maximum = GaugeMetricFamily("idsvc_db_pool_max_connections", "Pool size limit.")
        maximum.add_metric([], pool.get_max_size())
        yield size
        yield idle
        yield maximum


class ScreeningListCollector(Collector):
    """The restricted-party list's age at scrape time, from the import time a periodic job
    keeps (no query per scrape). +Inf while no list was ever imported: alert on it like on
    an old list (docs/screening.md)."""

    def __init__(
        self, imported_at: Callable[[], datetime | None], clock: Callable[[], datetime]
    ) -> None:
        self._imported_at = imported_at
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        imported = self._imported_at()
        age = float("inf") if imported is None else (self._clock() - imported).total_seconds()
        gauge = GaugeMetricFamily(
            "idsvc_screening_list_age_seconds",
            "Seconds since the newest restricted-party list was imported (+Inf: none).",
        )
        gauge.add_metric([], age)
        yield gauge
