"""The sidecar as a raw ASGI app (no framework on the hot path).

``/check`` (any method, any path below it for Envoy's path prefix) decides the original
request: 200 with the verified claims as ``X-Eligibility-*`` headers, or 401/403 with a
``WWW-Authenticate`` challenge saying why — the only statuses NGINX ``auth_request``
passes through. The original method and URL come from ``X-Original-Method`` and
``X-Original-URL`` (NGINX), or from the sub-request itself (Envoy forwards the original
method and path). ``/healthz`` and ``/metrics`` describe the sidecar itself.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from idsvc.verify import Verifier
from idsvc.verify.requests import Allowed, check_request

__all__ = ["GatewayApp"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class GatewayApp:
    def __init__(
        self,
        verifier: Verifier,
        *,
        check_prefix: str = "/check",
        public_base_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.verifier = verifier
        self.check_prefix = check_prefix.rstrip("/")
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self._clock = clock
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "idsvc_gateway_decisions",
            "Decisions by outcome and reason",
            ["outcome", "reason"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "idsvc_gateway_check_seconds",
            "Time to decide one request",
            buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01),
            registry=self.registry,
        )
        jwks_age = Gauge(
            "idsvc_gateway_jwks_age_seconds",
            "Seconds since the JWKS was last fetched",
            registry=self.registry,
        )
        jwks_age.set_function(verifier.jwks_age)
        status_age = Gauge(
            "idsvc_gateway_status_list_age_seconds",
            "Seconds since the oldest cached status list was fetched",
            registry=self.registry,
        )
        status_age.set_function(verifier.status_list_age)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path == "/healthz":
            await self._health(send)
        elif path == "/metrics":
            await _respond(
                send,
                200,
                [(b"content-type", CONTENT_TYPE_LATEST.encode())],
                generate_latest(self.registry),
            )
        elif path == self.check_prefix or path.startswith(self.check_prefix + "/"):
            await self._check(scope, send)
        else:
            await _respond(send, 404, [], b"not found")

    async def _health(self, send: Send) -> None:
        # Healthy while keys are known: a sidecar that cannot verify must leave the pool.
        ready = self.verifier.jwks_age() != float("inf")
        await _respond(send, 200 if ready else 503, [], b"ok" if ready else b"no keys yet")

    async def _check(self, scope: Scope, send: Send) -> None:
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = headers.get("x-original-method") or scope["method"]
        decision = check_request(
            self.verifier,
            authorization=headers.get("authorization"),
            dpop=[v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"dpop"],
            method=method.upper(),
            url=self._original_url(scope, headers),
        )
        if isinstance(decision, Allowed):
            claims = decision.claims
            out = [
                (b"x-eligibility-sub", claims.sub.encode()),
                (b"x-eligibility-entitlements", " ".join(claims.entitlements).encode()),
                (b"x-eligibility-assurance", claims.assurance.encode()),
                (b"x-eligibility-policy", claims.pol.encode()),
                (b"x-eligibility-jti", claims.jti.encode()),
            ]
            if claims.org is not None:
                out.append((b"x-eligibility-org", claims.org.id.encode()))
            self.decisions.labels("allow", "ok").inc()
            await _respond(send, 200, out, b"")
        else:
            self.decisions.labels("deny", decision.reason).inc()
            await _respond(
                send,
                decision.status,
                [(b"www-authenticate", decision.challenge.encode())],
                decision.reason.encode(),
            )
        self.latency.observe(time.perf_counter() - started)

    def _original_url(self, scope: Scope, headers: dict[str, str]) -> str:
        original = headers.get("x-original-url")
        if original:
            if self.public_base_url is not None:
                # Keep only the path and query: the public origin is configured, not taken
                # from a header a client could influence.
                rest = original.split("://", 1)[-1]
                return (
                    self.public_base_url + "/" + rest.split("/", 1)[1]
                    if "/" in rest
                    else self.public_base_url
                )
            return original
        path = scope["path"][len(self.check_prefix) :] or "/"
        query = scope.get("query_string", b"").decode("latin-1")
        if query:
            path += "?" + query
        base = (
            self.public_base_url
            or f"{headers.get('x-forwarded-proto', 'http')}://{headers.get('host', '')}"
        )
        return base + path


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"cache-control", b"no-store"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
