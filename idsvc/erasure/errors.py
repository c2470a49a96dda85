"""Errors of erasing a person.

``LastAdmin`` (the person is the last admin of an organisation) is the last-admin rule's own
error, defined in ``idsvc.orgs.members.errors``, and ``UnderLegalHold`` the legal hold's
(``idsvc.holds.errors``); named here so the feature's errors are found in one place.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import Conflict
from idsvc.holds.errors import UnderLegalHold
from idsvc.orgs.members.errors import LastAdmin

__all__ = ["AlreadyErased", "LastAdmin", "RetentionDuty", "UnderLegalHold"]


class AlreadyErased(Conflict):
    """The person was already erased; there is nothing left to erase."""

    code = "already_erased"


class RetentionDuty(Conflict):
    """The person was active within the retention period, whose records must be kept (15 CFR 762.6);
    erase later, or without the duty if none applies."""

    code = "retention_duty"
