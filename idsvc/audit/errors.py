"""Errors of the audit trail's archiving.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import Conflict

__all__ = ["ArchiveExists", "NotPrefix", "NothingToArchive", "StrayEvents", "UnsealedEvents"]


class StrayEvents(Conflict):
    """The default partition holds events of the months to archive; nothing was archived, an
    operator must move them first."""

    code = "stray_events"


class UnsealedEvents(Conflict):
    """A month to archive holds events not yet sealed into the chain; seal the trail, then archive
    again."""

    code = "unsealed_events"


class NothingToArchive(Conflict):
    """The ended months hold no events; there is nothing to archive."""

    code = "nothing_to_archive"


class NotPrefix(Conflict):
    """The events to archive would not be a prefix of the hash chain; nothing was archived, check
    the trail."""

    code = "not_prefix"


class ArchiveExists(Conflict):
    """An archive of that name is already recorded, or its file already exists; nothing was
    archived and nothing was overwritten."""

    code = "archive_exists"
