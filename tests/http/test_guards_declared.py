"""Every route that acts for somebody says who may call it, on the route.

A handler that asks for ``session``, ``actor``, ``org_role``, the OAuth ``client`` or the
SCIM organisation gets them only from a guard; a route that asks without declaring one
would fail closed with an error, but it is a wiring mistake this test finds first."""

from __future__ import annotations

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

_NEEDS_A_GUARD = {"session", "actor", "org_role", "client", "form", "scim_org", "viewer"}


def _handlers(app: Litestar) -> list[tuple[str, HTTPRouteHandler]]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            # Litestar answers OPTIONS itself for every path (CORS preflight); not ours.
            if isinstance(handler, HTTPRouteHandler) and handler.http_methods != {"OPTIONS"}:
                found.append((route.path, handler))
    return found


def test_every_route_that_acts_for_somebody_declares_a_guard(app: Litestar) -> None:
    unguarded = []
    for path, handler in _handlers(app):
        asked = set(handler.parsed_fn_signature.parameters) & _NEEDS_A_GUARD
        if asked and not handler.resolve_guards():
            unguarded.append(f"{path} {sorted(handler.http_methods)} asks for {sorted(asked)}")
    assert unguarded == []


def test_the_json_api_under_v1_is_guarded_throughout(app: Litestar) -> None:
    """Every /v1 route authenticates: there is no anonymous JSON API."""
    anonymous = [
        f"{path} {sorted(handler.http_methods)}"
        for path, handler in _handlers(app)
        if path.startswith("/v1/") and not handler.resolve_guards()
    ]
    assert anonymous == []
