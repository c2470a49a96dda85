"""Errors of the HTTP layer: request bodies and the health checks.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import BadRequest, Unavailable

__all__ = [
    "ControlCharacters",
    "DatabaseUnreachable",
    "MalformedJson",
    "MigrationsDrifted",
    "MigrationsPending",
]


class MalformedJson(BadRequest):
    """The request body is not valid JSON; send a well-formed JSON document."""

    code = "malformed_json"


class ControlCharacters(BadRequest):
    """A text field holds NUL or another control character (the field is in `errors`); remove it and
    send again."""

    code = "control_characters"


class MigrationsDrifted(Unavailable):
    """The database schema differs from the migrations this version expects; an operator must
    reconcile it."""

    code = "migrations_drifted"


class DatabaseUnreachable(Unavailable):
    """The readiness check cannot reach the database; the instance is not ready, retry later."""

    code = "database_unreachable"


class MigrationsPending(Unavailable):
    """Database migrations are not applied yet; the instance is not ready until an operator runs
    them."""

    code = "migrations_pending"
