"""``idsvc screening import FILE``: store a list snapshot and re-screen organisations."""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path

from idsvc import db
from idsvc.clock import utc_now
from idsvc.database import database_url
from idsvc.screening.csl import CslError, parse_csl
from idsvc.screening.freshness import newest_list
from idsvc.screening.hits import rescreen_all
from idsvc.screening.lists import import_snapshot
from idsvc.settings import Settings

__all__ = ["screening_import"]


async def screening_import(settings: Settings, *, path: Path, force: bool = False) -> int:
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        print(f"idsvc screening import: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        rows = parse_csl(data)
    except CslError as exc:
        print(f"idsvc screening import: {path}: {exc}", file=sys.stderr)
        return 1
    now = utc_now()
    async with database_url(settings) as dsn:
        conn = await db.connect(dsn)
        try:
            # One transaction: the snapshot and the re-screening it causes land together,
            # so no organisation is ever judged against a half-imported list.
            async with conn.transaction():
                current = await newest_list(conn)
                drop = settings.config.screening.max_entry_drop
                if current and not force and len(rows) < current.entries * (1 - drop):
                    # A truncated download would close every hit it no longer contains and
                    # let those organisations be approved: refuse, unless told it is real.
                    print(
                        f"idsvc screening import: {path} has {len(rows)} entries, "
                        f"{current.entries - len(rows)} fewer than the current list "
                        f"({current.entries}); more than {drop:.0%} fewer looks like a "
                        "partial file. Nothing was imported; use --force if the list "
                        "really shrank.",
                        file=sys.stderr,
                    )
                    return 1
                snapshot = await import_snapshot(
                    conn,
                    data=data,
                    rows=rows,
                    actor=f"cli:{getpass.getuser()}",
                    now=now,
                    forced=force,
                )
                outcomes = await rescreen_all(
                    conn, threshold=settings.config.screening.threshold, now=now
                )
        finally:
            await conn.close()
    print(
        f"imported snapshot {snapshot.id}: {snapshot.entries} entries, {snapshot.names} names, "
        f"sha256 {snapshot.file_sha256}"
    )
    new_hits = sum(len(o.new_hits) for o in outcomes)
    suspended = sum(o.suspended for o in outcomes)
    print(f"re-screened {len(outcomes)} organisations: {new_hits} new hits, {suspended} suspended")
    return 0
