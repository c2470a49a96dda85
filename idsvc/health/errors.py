"""Why an instance is not ready (503: the orchestrator takes it out of rotation).

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import Unavailable

__all__ = ["DatabaseUnreachable", "MigrationsDrifted", "MigrationsPending"]


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
