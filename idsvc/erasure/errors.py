"""Errors of erasing a person.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import Conflict

__all__ = ["AlreadyErased", "RetentionDuty"]


class AlreadyErased(Conflict):
    """The person was already erased; there is nothing left to erase."""

    code = "already_erased"


class RetentionDuty(Conflict):
    """The person was active within the retention period, whose records must be kept (15 CFR 762.6);
    erase later, or without the duty if none applies."""

    code = "retention_duty"
