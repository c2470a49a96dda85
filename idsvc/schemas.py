"""Generated JSON Schemas in ``schemas/``: one command writes them, CI checks they are current."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from idsvc.settings import ConfigFile, Secrets, Settings, parse_config
from idsvc.verify.claims import EligibilityClaims, EligibilityHeader

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar import Litestar

__all__ = [
    "ROUTE_MAP",
    "SCHEMAS_DIR",
    "describing_app",
    "generate_schemas",
    "render_route_map",
    "route_map_is_current",
    "stale_schemas",
    "write_route_map",
]

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
ROUTE_MAP = Path(__file__).resolve().parent.parent / "docs" / "routes.md"


def _config_schema() -> dict[str, object]:
    schema = msgspec.json.schema(ConfigFile)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "idsvc configuration file (IDSVC_CONFIG, TOML)"
    return schema


def _eligibility_token_schema() -> dict[str, object]:
    """Header and claims of the eligibility token (design 3.2), in one document."""
    _, components = msgspec.json.schema_components(
        [EligibilityHeader, EligibilityClaims], ref_template="#/$defs/{name}"
    )
    claims = dict(components[EligibilityClaims.__name__])
    properties = dict(claims["properties"])
    for name, prop in properties.items():
        # Optional claims are omitted when absent, never sent as null: say so in the schema.
        if isinstance(prop, dict) and "anyOf" in prop:
            properties[name] = next(p for p in prop["anyOf"] if p.get("type") != "null")
    claims["properties"] = properties
    claims["additionalProperties"] = False
    return {
        **claims,
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "idsvc eligibility token (JWS header and JWT claims)",
        "description": (
            "A compact JWS with typ eligibility+jwt. Validate the decoded header against "
            "#/$defs/EligibilityHeader and the payload against the top-level schema. The "
            "token carries the decision, never nationality, name or e-mail."
        ),
        "$defs": components,
    }


def describing_app() -> Litestar:
    """The app built from the defaults: routes do not depend on the configuration, so it
    has every one."""
    from idsvc.app import create_app  # the whole service: imported only for these files

    settings = Settings(
        # Development defaults; nothing is started, only the routes are read.
        config=parse_config(
            {"policy": {"allow_unreviewed_country_groups": True}}, source="openapi"
        ),
        database_url=None,
        secrets=Secrets(
            key_encryption_key=base64.urlsafe_b64encode(bytes(32)).rstrip(b"="),
            session_secret=None,
        ),
        data_dir=Path(tempfile.gettempdir()),
        config_path=None,
    )
    return create_app(settings)


def _openapi_schema() -> dict[str, object]:
    """The document ``GET /schema/openapi.json`` serves (idsvc.http.openapi)."""
    from idsvc.http.openapi import openapi_document

    return openapi_document(describing_app())


_GENERATORS: dict[str, Callable[[], dict[str, object]]] = {
    "config.schema.json": _config_schema,
    "eligibility-token.schema.json": _eligibility_token_schema,
    "openapi.json": _openapi_schema,
}


def _normalised(node: object) -> object:
    """The schema with every ``description`` folded to single spaces.

    Descriptions come from docstrings, and how msgspec dedents them has changed between
    releases (0.23 strips the indentation of continuation lines, 0.19 kept it). Folding the
    whitespace makes the generated file depend on the words only, so CI does not go red on a
    cosmetic difference between library versions.
    """
    if isinstance(node, dict):
        return {
            key: " ".join(value.split())
            if key == "description" and isinstance(value, str)
            else _normalised(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_normalised(item) for item in node]
    return node


def _render(generator: Callable[[], dict[str, object]]) -> bytes:
    return msgspec.json.format(msgspec.json.encode(_normalised(generator())), indent=2) + b"\n"


def generate_schemas(directory: Path = SCHEMAS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, generator in _GENERATORS.items():
        path = directory / name
        path.write_bytes(_render(generator))
        written.append(path)
    return written


def stale_schemas(directory: Path = SCHEMAS_DIR) -> list[str]:
    """Names of schema files that differ from what the code generates."""
    stale = []
    for name, generator in _GENERATORS.items():
        path = directory / name
        if not path.exists() or path.read_bytes() != _render(generator):
            stale.append(name)
    return stale


def render_route_map(app: Litestar) -> str:
    """docs/routes.md: every route of ``app`` by its OpenAPI tag (the console's pages as
    one group), with its guards and the module that handles it."""
    groups: dict[str, list[tuple[str, str, str, str]]] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            module = handler.fn.__module__
            if not module.startswith("idsvc."):
                continue  # Litestar's own (the OpenAPI document's pages)
            tags = handler.resolve_tags()
            group = tags[0] if tags else "Console (pages, not in the OpenAPI document)"
            guards = ", ".join(getattr(g, "__name__", "?") for g in handler.resolve_guards())
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                groups.setdefault(group, []).append(
                    (route.path, method, guards or "none (public)", module)
                )
    lines = [
        "# Routes",
        "",
        "Every route idsvc serves, by feature (its OpenAPI tag), with the guards that admit a",
        "caller and the module that handles it. Generated from the app by `idsvc schemas`;",
        "CI checks it is current (`idsvc schemas --check`). docs/privacy.md says what each",
        "route an organisation's admin reaches shows them; docs/architecture.md, how the",
        "packages fit together.",
    ]
    for group in sorted(groups):
        lines += [
            "",
            f"## {group}",
            "",
            "| method | path | guards | module |",
            "| --- | --- | --- | --- |",
        ]
        for path, method, guards, module in sorted(groups[group]):
            lines.append(f"| {method} | `{path}` | {guards} | `{module}` |")
    return "\n".join(lines) + "\n"


def write_route_map(path: Path = ROUTE_MAP) -> Path:
    path.write_text(render_route_map(describing_app()), encoding="utf-8")
    return path


def route_map_is_current(path: Path = ROUTE_MAP) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == render_route_map(describing_app())
