"""Every OpenAPI operation carries its feature's tag (declared once per feature in
``idsvc.app.FEATURES``), and docs/routes.md is the app's routes as they are."""

from __future__ import annotations

from idsvc.http.openapi import openapi_document
from idsvc.schemas import describing_app, render_route_map, route_map_is_current


def test_every_operation_is_tagged_with_one_feature() -> None:
    document = openapi_document(describing_app())
    operations = [
        (path, method, operation.get("tags"))
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if isinstance(operation, dict) and "responses" in operation
    ]
    assert len(operations) > 60
    assert [(p, m) for p, m, tags in operations if not tags or len(tags) != 1] == []


def test_the_route_map_is_current_and_lists_every_route() -> None:
    assert route_map_is_current(), "docs/routes.md is out of date: run `idsvc schemas`"
    rendered = render_route_map(describing_app())
    assert "| POST | `/v1/operator/decisions/{decision_id:uuid}/approve` | operator_only |" in (
        rendered
    )
    assert "| GET | `/console/decisions` | operator_viewer |" in rendered
