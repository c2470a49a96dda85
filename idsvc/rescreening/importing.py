"""Importing a list snapshot safely, from the CLI or from the scheduled fetch: a list that
lost more than ``max_entry_drop`` of the current one's entries looks like a truncated
download and is refused unless forced (it would close every hit it no longer contains),
and the snapshot and the re-screening it causes commit together."""

from __future__ import annotations

from datetime import datetime

import msgspec

from idsvc.db import Connection
from idsvc.orgs.vetting.screening_hits import ScreeningOutcome, rescreen_all
from idsvc.screening.csl import CslRow
from idsvc.screening.freshness import newest_list
from idsvc.screening.lists import Snapshot, import_snapshot

__all__ = ["ImportOutcome", "PartialList", "import_list"]


class PartialList(Exception):
    """Far fewer entries than the current list; nothing was imported."""

    def __init__(self, entries: int, current: int, drop: float) -> None:
        super().__init__(
            f"{entries} entries, {current - entries} fewer than the current list ({current}); "
            f"more than {drop:.0%} fewer looks like a partial file"
        )
        self.entries, self.current = entries, current


class ImportOutcome(msgspec.Struct, frozen=True, kw_only=True):
    snapshot: Snapshot
    outcomes: list[ScreeningOutcome]


async def import_list(
    conn: Connection,
    *,
    data: bytes,
    rows: list[CslRow],
    actor: str,
    now: datetime,
    force: bool,
    max_entry_drop: float,
    threshold: float,
) -> ImportOutcome:
    """Run inside the caller's transaction. Raises PartialList."""
    current = await newest_list(conn)
    if current and not force and len(rows) < current.entries * (1 - max_entry_drop):
        raise PartialList(len(rows), current.entries, max_entry_drop)
    snapshot = await import_snapshot(conn, data=data, rows=rows, actor=actor, now=now, forced=force)
    outcomes = await rescreen_all(conn, threshold=threshold, now=now)
    return ImportOutcome(snapshot=snapshot, outcomes=outcomes)
