"""Importing a list snapshot safely, from the CLI or from the scheduled fetch.

A list that looks incomplete is refused unless forced, because importing it would close
every hit it no longer contains: in all, more than ``max_entry_drop`` fewer entries than
the current list (a truncated download), or **any one source** that lost more than that
share of its entries or is missing altogether (a feed that dropped the SDN list while the
total stayed within 10 %). The snapshot and the re-screening it causes commit together, and
the outcome names every hit the import cleared, so the operator sees what it decided (a
dry run, the caller's rolled-back transaction, shows the same without changing anything).
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Literal

import msgspec

from idsvc.db import Connection, rows_to
from idsvc.orgs.vetting.screening_hits import ScreeningOutcome, rescreen_all
from idsvc.screening.csl import CslRow
from idsvc.screening.lists import Snapshot, import_snapshot

__all__ = ["ClearedHit", "ImportOutcome", "PartialList", "import_list"]


class PartialList(Exception):
    """The list looks incomplete against the current one; nothing was imported."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class ClearedHit(msgspec.Struct, frozen=True, kw_only=True):
    """A hit the import closed because its entry left the list."""

    subject: Literal["organisation", "person"]
    hit: uuid.UUID
    subject_id: uuid.UUID
    list_source: str
    matched_name: str


class ImportOutcome(msgspec.Struct, frozen=True, kw_only=True):
    snapshot: Snapshot
    outcomes: list[ScreeningOutcome]
    cleared: list[ClearedHit]
    new_person_hits: int


_CURRENT_SOURCES = """
SELECT entries, sources FROM screening_snapshots ORDER BY seq DESC LIMIT 1
"""
# What this import's re-screening closed: cleared by the system at its very moment.
_CLEARED_NOW = """
SELECT 'organisation' AS subject, id AS hit, org_id AS subject_id, list_source, matched_name
FROM screening_hits WHERE state = 'cleared' AND decided_by = 'system' AND decided_at = $1
UNION ALL
SELECT 'person', id, user_id, list_source, matched_name
FROM person_screening_hits
WHERE state = 'cleared' AND decided_by = 'system' AND decided_at = $1
ORDER BY 1, 4, 5
"""
_PERSON_HITS_NOW = """
SELECT count(*) FROM person_screening_hits WHERE state = 'open' AND found_at = $1
"""


def completeness_problems(
    rows: list[CslRow], current_entries: int, current_sources: dict[str, int], drop: float
) -> list[str]:
    """Why ``rows`` look like part of a list, against the current one (empty: whole)."""
    problems = []
    if len(rows) < current_entries * (1 - drop):
        problems.append(
            f"{len(rows)} entries, {current_entries - len(rows)} fewer than the current list "
            f"({current_entries}); more than {drop:.0%} fewer looks like a partial file"
        )
    counts = Counter(row.source for row in rows)
    for source, before in sorted(current_sources.items()):
        now_has = counts.get(source, 0)
        if now_has == 0:
            problems.append(f"source {source!r} is missing (it had {before} entries)")
        elif now_has < before * (1 - drop):
            problems.append(
                f"source {source!r} has {now_has} entries, {before - now_has} fewer than "
                f"the current list ({before}); more than {drop:.0%} fewer"
            )
    return problems


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
    """Run inside the caller's transaction. Raises PartialList (unless ``force``)."""
    current = await conn.fetchrow(_CURRENT_SOURCES)
    if current is not None and not force:
        problems = completeness_problems(
            rows, current["entries"], dict(current["sources"]), max_entry_drop
        )
        if problems:
            raise PartialList(problems)
    snapshot = await import_snapshot(conn, data=data, rows=rows, actor=actor, now=now, forced=force)
    outcomes = await rescreen_all(conn, threshold=threshold, now=now)
    return ImportOutcome(
        snapshot=snapshot,
        outcomes=outcomes,
        cleared=rows_to(ClearedHit, await conn.fetch(_CLEARED_NOW, now)),
        new_person_hits=await conn.fetchval(_PERSON_HITS_NOW, now),
    )
