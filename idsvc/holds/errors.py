"""Errors of legal holds.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import Conflict, NotFound

__all__ = ["HoldNotFound", "UnderLegalHold"]


class UnderLegalHold(Conflict):
    """The records are under legal hold (15 CFR 762.6(b)): a known investigation or
    proceeding, an open screening hit or a pending determination. They cannot be erased
    until every hold is lifted."""

    code = "legal_hold"


class HoldNotFound(NotFound):
    """No active legal hold has that id."""

    code = "legal_hold_not_found"
