"""Optional OpenTelemetry tracing (``pip install idsvc[otel]``, ``[tracing]``): a server span
per request and a client span per database statement, exported over OTLP/HTTP.

The request span is ours rather than opentelemetry-instrumentation-asgi's: that one records
the raw URL with its query string, which can hold OAuth codes and ids, and the rules of
idsvc's logs hold for its spans too (route template, status, request id; no path, no
query, no address). Database spans come from opentelemetry-instrumentation-asyncpg, which
records the SQL text with its $n placeholders and never the parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from idsvc.settings import ConfigError, TracingSettings

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

__all__ = ["RequestTracer", "instrument_database", "tracer_provider_from"]


def tracer_provider_from(settings: TracingSettings) -> TracerProvider | None:
    """The provider exporting to ``otlp_endpoint``; None while tracing is off."""
    if not settings.otlp_endpoint:
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise ConfigError(
            "tracing.otlp_endpoint is set but OpenTelemetry is not installed: "
            "pip install 'idsvc[otel]'"
        ) from None
    provider = SdkTracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(settings.otlp_endpoint)))
    return provider


class RequestTracer:
    """One server span per HTTP request, continuing a W3C ``traceparent`` if one came."""

    def __init__(self, provider: TracerProvider | None) -> None:
        self._tracer: Tracer | None = provider.get_tracer("idsvc") if provider else None

    def span(
        self, method: str, headers: Iterable[tuple[bytes, bytes]]
    ) -> AbstractContextManager[Any]:
        if self._tracer is None:
            return nullcontext(None)
        from opentelemetry.propagate import extract
        from opentelemetry.trace import SpanKind

        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in headers
            if name in (b"traceparent", b"tracestate")
        }
        return self._tracer.start_as_current_span(
            method,
            context=extract(carrier),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method},
        )

    @staticmethod
    def finish(span: Span | None, method: str, route: str, status: int, request_id: str) -> None:
        """Named once the route is known (OpenTelemetry's HTTP convention: "GET /v1/me")."""
        if span is None:
            return
        from opentelemetry.trace import Status, StatusCode

        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        span.set_attribute("idsvc.request_id", request_id)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))


def instrument_database(provider: TracerProvider | None) -> AbstractContextManager[None]:
    """Client spans for asyncpg statements while the app runs (asyncpg is patched
    process-wide, so this is undone when the app stops)."""
    if provider is None:
        return nullcontext()
    from contextlib import contextmanager

    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    @contextmanager
    def instrumented() -> Any:
        # Never the statement's parameters: they are personal data and secrets.
        instrumentor = AsyncPGInstrumentor(capture_parameters=False)  # type: ignore[no-untyped-call]
        instrumentor.instrument(tracer_provider=provider)
        try:
            yield
        finally:
            instrumentor.uninstrument()

    return instrumented()
