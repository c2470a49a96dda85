"""The OpenAPI document: served at /schema/openapi.json, the same as the committed
schemas/openapi.json, and complete (every JSON API route, its body, its problems)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from idsvc.http.openapi import DOCUMENTED, Documented
from idsvc.schemas import SCHEMAS_DIR

_PAGES = ("/", "/login", "/logout", "/me", "/link", "/device", "/invitations", "/oidc", "/console")


async def test_the_served_document_is_the_committed_one(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    served = _folded(response.json())
    committed = json.loads((SCHEMAS_DIR / "openapi.json").read_text())
    assert served == committed


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SCHEMAS_DIR / "openapi.json").read_text())
    return document


def _is_page(path: str) -> bool:
    return any(path == p or path.startswith(f"{p}/") for p in _PAGES) or path.startswith("/dev/")


def test_every_api_route_is_described(app: Litestar) -> None:
    paths = _document()["paths"]
    missing = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or _is_page(route.path_format):
            continue
        if route.path_format.startswith("/schema"):
            continue
        for method in route.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in paths.get(route.path_format, {}):
                missing.append(f"{method} {route.path_format}")
    assert not missing


def test_every_body_a_handler_reads_is_in_the_document(app: Litestar) -> None:
    paths = _document()["paths"]
    declared = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            documented = handler.opt.get(DOCUMENTED)
            if not isinstance(documented, Documented) or documented.body is None:
                continue
            for method in handler.http_methods:
                operation = paths[route.path_format][method.lower()]
                assert documented.body_media_type in operation["requestBody"]["content"]
                declared += 1
    assert declared >= 30  # JSON, form, SCIM and CSV bodies


def test_every_operation_describes_its_problems_and_authentication() -> None:
    document = _document()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            problems = operation["responses"]["4XX"]["content"]
            media = (
                "application/scim+json"
                if path.startswith("/scim/")
                else ("application/problem+json")
            )
            assert media in problems, (method, path)
            if path.startswith(("/v1/", "/scim/", "/oauth2/")):
                assert operation["security"], (method, path)
    schemes = document["components"]["securitySchemes"]
    assert {"session", "csrf", "scimBearer", "clientBasic", "dpop"} <= set(schemes)


async def test_a_handler_reading_an_undeclared_body_is_a_programming_error() -> None:
    """read_json refuses to decode a type the route did not declare, so the document cannot
    drift from what handlers read; every route's tests would fail, not production."""
    from litestar import Request, post

    from idsvc.http.body import read_json
    from idsvc.http.openapi import documented

    class Declared(msgspec.Struct):
        a: int

    class Other(msgspec.Struct):
        b: int

    @post("/declared", opt=documented(body=Declared))
    async def declared(request: Request[Any, Any, Any]) -> int:
        return (await read_json(request, Declared)).a

    @post("/drifted", opt=documented(body=Declared))
    async def drifted(request: Request[Any, Any, Any]) -> int:
        return (await read_json(request, Other)).b

    async with AsyncTestClient(Litestar([declared, drifted])) as client:
        assert (await client.post("/declared", json={"a": 1})).json() == 1
        assert (await client.post("/drifted", json={"b": 1})).status_code == 500


def _folded(node: Any) -> Any:
    # schemas/ folds description whitespace (idsvc.schemas); the served document does not.
    if isinstance(node, dict):
        return {
            k: " ".join(v.split()) if k == "description" and isinstance(v, str) else _folded(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_folded(v) for v in node]
    return node
