"""``idsvc screening import FILE``: store a list snapshot (CSV or JSON) and re-screen
organisations and people."""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path

from idsvc.cli.connection import connected
from idsvc.clock import utc_now
from idsvc.rescreening.importing import PartialList, import_list
from idsvc.screening.csl import CslError
from idsvc.screening.list_files import parse_list
from idsvc.settings import Settings

__all__ = ["screening_import"]


async def screening_import(settings: Settings, *, path: Path, force: bool = False) -> int:
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
            # so nobody is ever judged against a half-imported list.
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
        except PartialList as exc:
            print(
                f"idsvc screening import: {path} has {exc}. Nothing was imported; use "
                "--force if the list really shrank.",
                file=sys.stderr,
            )
            return 1
    snapshot, outcomes = imported.snapshot, imported.outcomes
    print(
        f"imported snapshot {snapshot.id}: {snapshot.entries} entries, {snapshot.names} names, "
        f"sha256 {snapshot.file_sha256}"
    )
    new_hits = sum(len(o.new_hits) for o in outcomes)
    suspended = sum(o.suspended for o in outcomes)
    print(f"re-screened {len(outcomes)} organisations: {new_hits} new hits, {suspended} suspended")
    return 0
