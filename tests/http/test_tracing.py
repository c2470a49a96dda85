"""OpenTelemetry tracing, recorded by the SDK's in-memory exporter: a server span per
request named by its route template, continuing the caller's traceparent, and a client span
per database statement under it; no path, query string or parameter in any span."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from idsvc.app import create_app
from idsvc.http.tracing import tracer_provider_from
from idsvc.settings import ConfigError, TracingSettings
from tests.support.clock import FakeClock
from tests.support.settings import make_settings

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def client(
    database_url: str, tmp_path: Path, clock: FakeClock, exporter: InMemorySpanExporter
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = make_settings(database_url, tmp_path, cookie_secure=False)
    app = create_app(settings, clock=clock, tracer_provider=provider)
    async with AsyncTestClient(app=app) as client:
        yield client


async def test_requests_and_statements_become_spans(
    client: AsyncTestClient[Litestar], exporter: InMemorySpanExporter
) -> None:
    exporter.clear()  # start-up: migrations, key ring, status lists
    response = await client.get(
        "/status-lists/1?code=secret-code",
        headers={
            "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01",
            "X-Request-Id": "trace-test-1",
        },
    )
    assert response.status_code in (200, 404)
    spans = exporter.get_finished_spans()
    server = [s for s in spans if s.kind == SpanKind.SERVER]
    assert len(server) == 1
    request = server[0]
    assert request.name == "GET /status-lists/{list_id}"
    assert format(request.context.trace_id, "032x") == TRACE_ID  # the caller's trace goes on
    assert request.attributes is not None
    assert request.attributes["http.route"] == "/status-lists/{list_id}"
    assert request.attributes["http.response.status_code"] == response.status_code
    assert request.attributes["idsvc.request_id"] == "trace-test-1"
    # Background jobs run statements too, in traces of their own.
    statements = [
        s
        for s in spans
        if s.kind == SpanKind.CLIENT and s.context.trace_id == request.context.trace_id
    ]
    assert statements, [s.name for s in spans]
    for statement in statements:
        assert statement.parent is not None
        assert statement.parent.span_id == request.context.span_id
        assert statement.attributes is not None
        assert "db.statement.parameters" not in statement.attributes
    everything = repr([(s.name, dict(s.attributes or {})) for s in spans])
    assert "secret-code" not in everything


def test_tracing_is_off_without_an_endpoint_and_exports_over_otlp_with_one() -> None:
    assert tracer_provider_from(TracingSettings()) is None
    provider = tracer_provider_from(
        TracingSettings(otlp_endpoint="http://127.0.0.1:4318/v1/traces", service_name="idsvc-a")
    )
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "idsvc-a"
    provider.shutdown()


def test_an_endpoint_without_the_otel_extra_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    # As if `pip install idsvc` without [otel]: the SDK cannot be imported.
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)
    with pytest.raises(ConfigError, match=r"idsvc\[otel\]"):
        tracer_provider_from(TracingSettings(otlp_endpoint="http://127.0.0.1:4318/v1/traces"))
