"""Errors of restricted-party screening.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import Conflict

__all__ = ["HitNotOpen", "ScreeningListStale"]


class HitNotOpen(Conflict):
    """The screening hit was already cleared or overridden; reload it before deciding."""

    code = "hit_not_open"


class ScreeningListStale(Conflict):
    """No restricted-party list is imported, or the newest is too old (`list_imported_at`); import a
    current list before approving."""

    code = "screening_list_stale"
