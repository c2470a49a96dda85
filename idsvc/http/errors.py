"""Errors of the HTTP layer: request bodies.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import BadRequest

__all__ = ["ControlCharacters", "MalformedJson"]


class MalformedJson(BadRequest):
    """The request body is not valid JSON; send a well-formed JSON document."""

    code = "malformed_json"


class ControlCharacters(BadRequest):
    """A text field holds NUL or another control character (the field is in `errors`); remove it and
    send again."""

    code = "control_characters"
