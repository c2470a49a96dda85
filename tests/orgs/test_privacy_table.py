"""docs/privacy.md declares every surface an org admin (or its SCIM client) reaches and the
member fields each answers with; this test holds the declaration to the code, so that a new
route or a new field cannot reach admins without being declared (issue 25)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import msgspec

from idsvc.app import create_app
from tests.support.settings import make_settings

PRIVACY = Path(__file__).parents[2] / "docs" / "privacy.md"
# The guards that admit an organisation's admins or its identity provider.
ADMIN_GUARDS = ("org_admin(", "administers(", "scim_token(")


def _section(title: str) -> str:
    text = PRIVACY.read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _declared_routes() -> set[str]:
    section = _section("Every surface an org admin reaches")
    return set(re.findall(r"`((?:GET|POST|PUT|PATCH|DELETE) /[^`]+)`", section))


def _admin_routes(tmp_path: Path) -> set[str]:
    app = create_app(make_settings(None, tmp_path))
    reached = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            guards = [getattr(g, "__name__", "") for g in handler.resolve_guards()]
            if not any(name.startswith(ADMIN_GUARDS) for name in guards):
                continue
            # "{org_id:uuid}" as the docs write it: "{org_id}".
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            reached |= {f"{method} {path}" for method in handler.http_methods}
    return reached


def test_every_route_an_admin_reaches_is_declared_and_nothing_else(tmp_path: Path) -> None:
    reached = _admin_routes(tmp_path)
    declared = _declared_routes()
    assert len(reached) > 40  # the guards were recognised at all
    assert sorted(reached - declared) == [], "reachable by admins but not in docs/privacy.md"
    assert sorted(declared - reached) == [], "in docs/privacy.md but no admin route"


def test_the_member_fields_declared_are_the_fields_answered() -> None:
    section = _section("Every surface an org admin reaches")
    rows = re.findall(r"^\| `(idsvc\.[\w.]+)` \| ([^|]+) \|$", section, re.MULTILINE)
    assert len(rows) == 3
    for dotted, fields in rows:
        module, _, name = dotted.rpartition(".")
        struct = getattr(importlib.import_module(module), name)
        answered = [field.name for field in msgspec.structs.fields(struct)]
        assert [f.strip() for f in fields.split(",")] == answered, dotted
