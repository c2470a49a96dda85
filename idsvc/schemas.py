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

__all__ = ["SCHEMAS_DIR", "generate_schemas", "stale_schemas"]

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"


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


def _openapi_schema() -> dict[str, object]:
    """The document ``GET /schema/openapi.json`` serves (idsvc.http.openapi). Routes do not
    depend on the configuration, so an app built from the defaults describes every one."""
    from idsvc.app import create_app  # the whole service: imported only for this file
    from idsvc.http.openapi import openapi_document

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
    return openapi_document(create_app(settings))


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
