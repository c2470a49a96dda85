"""The OpenAPI 3.1 document at ``GET /schema/openapi.json``.

Litestar describes paths, path parameters and response types from the handlers. What it
cannot see, because handlers decode strictly themselves (:func:`idsvc.http.body.read_json`
refuses what Litestar's lax conversion would guess at), each route declares in its ``opt``
with :func:`documented`: the JSON, form or CSV body and the query parameters. This module
adds those, the RFC 9457 problem answers every route can give (the SCIM error schema under
``/scim/v2``), and how each route authenticates. ``idsvc schemas`` writes the same document
to ``schemas/openapi.json``, checked current in CI; the fuzz test drives schemathesis with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

if TYPE_CHECKING:
    from litestar import Litestar, Request

__all__ = ["DOCUMENTED", "Documented", "documented", "openapi_config", "openapi_document"]

DOCUMENTED = "idsvc_documented"
OPENAPI_PATH = "/schema"
_PROBLEM = "application/problem+json"
_SCIM = "application/scim+json"
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Documented:
    """What a handler reads by itself, for the document (see :func:`documented`)."""

    body: type[Any] | None = None
    body_media_type: str = "application/json"
    query: type[Any] | None = None
    # Media types of the success answer, when not JSON (a key set, a PEM file, a CSV).
    returns: tuple[str, ...] = ()
    # Answers 304 Not Modified to a matching If-None-Match (caches of gateways).
    conditional: bool = False


def documented(
    *,
    body: type[Any] | None = None,
    form: type[Any] | None = None,
    csv: bool = False,
    query: type[Any] | None = None,
    media_type: str = "application/json",
    returns: tuple[str, ...] = (),
    conditional: bool = False,
) -> dict[str, Documented]:
    """``@post(..., opt=documented(body=OrgRequest))``. ``read_json`` checks that the type a
    handler decodes is the one declared here, so the document cannot drift from the code.
    ``query`` is a struct whose fields are the route's query parameters."""
    if form is not None:
        body, media_type = form, _FORM
    elif csv:
        body, media_type = str, "text/csv"
    return {
        DOCUMENTED: Documented(
            body=body,
            body_media_type=media_type,
            query=query,
            returns=returns,
            conditional=conditional,
        )
    }


class _Document(JsonRenderPlugin):
    """Serves the completed document, not Litestar's raw one."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._cached is None:
            self._cached = msgspec.json.encode(_complete(openapi_schema, request.app))
        return self._cached

    _cached: bytes | None = None


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="idsvc",
        version=_version(),
        description=(
            "U.S.-person and nationality attestation, organisation enrolment and "
            "eligibility tokens. Errors are RFC 9457 problems whose `type` is "
            "`urn:idsvc:problem:<code>` (docs/errors.md lists every code)."
        ),
        path=OPENAPI_PATH,
        # Only the JSON document: a documentation UI would load scripts from a CDN.
        render_plugins=[_Document(path="/openapi.json")],
    )


def openapi_document(app: Litestar) -> dict[str, Any]:
    """The document as served (``idsvc schemas`` writes it to schemas/openapi.json)."""
    return _complete(app.openapi_schema.to_schema(), app)


def _version() -> str:
    try:
        return version("idsvc")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0"


def _complete(raw: Mapping[str, Any], app: Litestar) -> dict[str, Any]:
    doc: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(raw))
    doc.pop("servers", None)  # the issuer's origin, whatever it is, serves it
    components = doc.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    components["securitySchemes"] = _SECURITY_SCHEMES
    declared = _declared(app)
    types = [d.body for d in declared.values() if d.body not in (None, str)]
    types += [d.query for d in declared.values() if d.query is not None]
    refs, extra = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    for name, schema in {**extra, "Problem": _PROBLEM_SCHEMA, "ScimError": _SCIM_ERROR}.items():
        if name in schemas and schemas[name] != schema:
            raise RuntimeError(f"two different schemas are both named {name!r}")
        schemas[name] = schema
    by_type = dict(zip(types, refs, strict=True))
    for (path, method), operation in _operations(doc):
        found = declared.get((path, method))
        if found is not None:
            _describe_inputs(operation, found, by_type)
        returns = found.returns if found is not None else ()
        if found is not None and found.conditional:
            operation["responses"]["304"] = {"description": "Not modified (If-None-Match)"}
        _describe_success(operation, (_SCIM,) if path.startswith("/scim/") else returns)
        _describe_problems(operation, scim=path.startswith("/scim/"))
        operation["security"] = _security(path, method)
    return doc


def _declared(app: Litestar) -> dict[tuple[str, str], Documented]:
    found: dict[tuple[str, str], Documented] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            declaration = handler.opt.get(DOCUMENTED)
            if isinstance(declaration, Documented):
                for method in handler.http_methods:
                    found[(route.path_format, method.lower())] = declaration
    return found


def _operations(doc: dict[str, Any]) -> list[tuple[tuple[str, str], dict[str, Any]]]:
    return [
        ((path, method), operation)
        for path, item in doc.get("paths", {}).items()
        for method, operation in item.items()
        if method in ("get", "put", "post", "delete", "patch")
    ]


def _describe_inputs(
    operation: dict[str, Any], declared: Documented, refs: Mapping[Any, dict[str, Any]]
) -> None:
    if declared.body is str:
        operation["requestBody"] = {
            "required": True,
            "content": {declared.body_media_type: {"schema": {"type": "string"}}},
        }
    elif declared.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {declared.body_media_type: {"schema": refs[declared.body]}},
        }
    if declared.query is not None:
        parameters = operation.setdefault("parameters", [])
        known = {(p.get("in"), p.get("name")) for p in parameters}
        for field in msgspec.structs.fields(declared.query):
            if ("query", field.encode_name) in known:
                continue
            schema = msgspec.json.schema(field.type)
            parameters.append(
                {
                    "name": field.encode_name,
                    "in": "query",
                    "required": field.required,
                    "schema": {k: v for k, v in schema.items() if k != "$defs"},
                }
            )


def _describe_success(operation: dict[str, Any], media_types: tuple[str, ...]) -> None:
    """Litestar says application/json for every answer; put the real media types."""
    if not media_types:
        return
    for status, response in operation.get("responses", {}).items():
        content = response.get("content")
        if status.startswith("2") and content:
            schema = next(iter(content.values())).get("schema", {})
            if schema.get("type") == "string" and "application/json" in content:
                schema = {}  # bytes Litestar could not see into
            response["content"] = {
                media: {"schema": {"type": "string"} if media.startswith("text/") else schema}
                for media in media_types
            }


def _describe_problems(operation: dict[str, Any], *, scim: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    # Litestar documents its own validation-error shape under 400; ours is a problem.
    responses.pop("400", None)
    media, ref = (_SCIM, "ScimError") if scim else (_PROBLEM, "Problem")
    content = {media: {"schema": {"$ref": f"#/components/schemas/{ref}"}}}
    responses["4XX"] = {
        "description": "The request was refused; `type` names the reason (docs/errors.md)",
        "content": content,
    }
    responses["503"] = {
        "description": "A dependency (PostgreSQL) is unavailable; retry after Retry-After",
        "content": content,
    }


Scheme = Literal["session", "csrf", "scimBearer", "clientBasic", "dpop", "none"]


def _security(path: str, method: str) -> list[dict[str, list[str]]]:
    """How each route authenticates; the handler's guard enforces it."""
    if path.startswith("/scim/"):
        return [{"scimBearer": []}]
    if path in ("/oauth2/introspect", "/oauth2/revoke"):
        return [{"clientBasic": []}]
    if path.startswith("/oauth2/"):
        # Public clients prove possession with DPoP; confidential ones also use Basic.
        return [{"dpop": []}, {"clientBasic": [], "dpop": []}]
    if path.startswith("/v1/"):
        return [{"session": []}] if method == "get" else [{"session": [], "csrf": []}]
    return []


_SECURITY_SCHEMES: dict[str, Any] = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "__Host-idsvc_session",
        "description": "The browser session (`idsvc_session` on plain-http development).",
    },
    "csrf": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": "Every state change with a session: the token from GET /v1/me.",
    },
    "scimBearer": {"type": "http", "scheme": "bearer", "description": "An org's SCIM token."},
    "clientBasic": {"type": "http", "scheme": "basic", "description": "A client's secret."},
    "dpop": {
        "type": "apiKey",
        "in": "header",
        "name": "DPoP",
        "description": "A DPoP proof (RFC 9449) for sender-constrained tokens.",
    },
}

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; clients switch on `type`.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "urn:idsvc:problem:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
}

_SCIM_ERROR: dict[str, Any] = {
    "type": "object",
    "description": "RFC 7644 section 3.12 error.",
    "required": ["schemas", "status"],
    "properties": {
        "schemas": {"type": "array", "items": {"type": "string"}},
        "status": {"type": "string"},
        "scimType": {"type": "string"},
        "detail": {"type": "string"},
    },
}
