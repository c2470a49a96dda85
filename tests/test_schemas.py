"""The generated schemas depend on the code's words, not on how a library renders them."""

from __future__ import annotations

import json

from idsvc.schemas import SCHEMAS_DIR, stale_schemas


def _descriptions(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "description" and isinstance(v, str)]
        return found + [d for v in node.values() for d in _descriptions(v)]
    if isinstance(node, list):
        return [d for item in node for d in _descriptions(item)]
    return []


def test_checked_in_schemas_are_current() -> None:
    assert stale_schemas() == []


def test_descriptions_carry_no_docstring_layout() -> None:
    # msgspec 0.19 and 0.23 indent a docstring's continuation lines differently; a
    # description with newlines or runs of spaces would make the file depend on that.
    for path in sorted(SCHEMAS_DIR.glob("*.json")):
        for description in _descriptions(json.loads(path.read_text())):
            assert description == " ".join(description.split()), (path.name, description)
