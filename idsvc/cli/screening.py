"""``idsvc screening import FILE``: store a list snapshot (CSV or JSON) and re-screen
organisations and people."""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path

from idsvc.cli.connection import connected
from idsvc.clock import utc_now
from idsvc.rescreening.importing import ImportOutcome, PartialList, import_list
from idsvc.screening.csl import CslError
from idsvc.screening.list_files import parse_list
from idsvc.settings import Settings

__all__ = ["screening_import"]


class _DryRun(Exception):
    """Rolls the dry run's transaction back, carrying what the import would have done."""

    def __init__(self, outcome: ImportOutcome) -> None:
        super().__init__("dry run")
        self.outcome = outcome


async def screening_import(
    settings: Settings, *, path: Path, force: bool = False, dry_run: bool = False
) -> int:
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        print(f"idsvc screening import: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        rows = parse_list(data)
    except CslError as exc:
        print(f"idsvc screening import: {path}: {exc}", file=sys.stderr)
        return 1
    screening = settings.config.screening
    now = utc_now()
    async with connected(settings) as conn:
        try:
            # One transaction: the snapshot and the re-screening it causes land together,
            # so nobody is ever judged against a half-imported list. A dry run does the
            # same work and rolls it back.
            async with conn.transaction():
                imported = await import_list(
                    conn,
                    data=data,
                    rows=rows,
                    actor=f"cli:{getpass.getuser()}",
                    now=now,
                    force=force,
                    max_entry_drop=screening.max_entry_drop,
                    threshold=screening.threshold,
                )
                if dry_run:
                    raise _DryRun(imported)
        except PartialList as exc:
            print(f"idsvc screening import: {path} looks incomplete:", file=sys.stderr)
            for problem in exc.problems:
                print(f"  - {problem}", file=sys.stderr)
            print("Nothing was imported; use --force if the list really shrank.", file=sys.stderr)
            return 1
        except _DryRun as dry:
            imported = dry.outcome
    _report(imported, dry_run=dry_run)
    return 0


def _report(imported: ImportOutcome, *, dry_run: bool) -> None:
    snapshot, outcomes = imported.snapshot, imported.outcomes
    verb = "would import" if dry_run else "imported"
    print(
        f"{verb} snapshot {snapshot.id}: {snapshot.entries} entries, {snapshot.names} names, "
        f"sha256 {snapshot.file_sha256}"
    )
    new_hits = sum(len(o.new_hits) for o in outcomes)
    suspended = sum(o.suspended for o in outcomes)
    print(
        f"re-screened {len(outcomes)} organisations: {new_hits} new hits, {suspended} suspended; "
        f"people: {imported.new_person_hits} new hits"
    )
    # Every hit the import closes, by name: a hold must never end unseen.
    cleared = imported.cleared
    print(f"{'would clear' if dry_run else 'cleared'} {len(cleared)} hits (entry left the list):")
    for hit in cleared:
        print(
            f"  {hit.subject} {hit.subject_id} hit {hit.hit}: {hit.matched_name} "
            f"({hit.list_source})"
        )
    if dry_run:
        print("dry run: nothing was changed")
