"""Errors of changing members and of access reviews.

InvalidTransition, MemberExists are shared with other parts of ``idsvc.orgs`` and defined in
``idsvc.orgs.errors``; named here so the feature's errors are found in one place.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import Conflict
from idsvc.orgs.errors import InvalidTransition, MemberExists

__all__ = [
    "InvalidTransition",
    "LastAdmin",
    "MemberExists",
    "NotPending",
]


class LastAdmin(Conflict):
    """The change would leave an organisation (named in `detail`) without an active admin who has
    signed in; appoint another admin first."""

    code = "last_admin"


class NotPending(Conflict):
    """A membership named is not pending in the open access review (already decided, or not in it);
    reload the review."""

    code = "not_pending"
