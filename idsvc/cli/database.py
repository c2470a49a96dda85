"""`idsvc migrate`, `idsvc audit verify` and `idsvc audit export`."""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, BinaryIO

from idsvc.audit import export_events, seal_pending, verify_chain
from idsvc.cli.connection import connected
from idsvc.db.migrate import MigrationError, apply_migrations

if TYPE_CHECKING:
    from datetime import datetime

    from idsvc.settings import Settings

__all__ = ["audit_export", "audit_verify", "migrate"]


async def migrate(settings: Settings) -> int:
    async with connected(settings) as conn:
        try:
            applied = await apply_migrations(conn, settings.migrations_dir)
        except MigrationError as exc:
            print(f"idsvc migrate: {exc}", file=sys.stderr)
            return 1
    if applied:
        for migration in applied:
            print(f"applied {migration.version:04d}_{migration.name}")
    else:
        print("database is up to date")
    return 0


async def audit_verify(settings: Settings, *, seal_first: bool) -> int:
    async with connected(settings) as conn:
        if seal_first:
            while await seal_pending(conn):
                pass
        report = await verify_chain(conn)
    if report.problem is not None:
        print(f"audit chain BROKEN: {report.problem.message}", file=sys.stderr)
        print(f"checked {report.checked} events before the break", file=sys.stderr)
        return 1
    print(
        f"audit chain OK: {report.checked} events verified up to position "
        f"{report.head_position}; {report.unsealed} not yet sealed"
    )
    return 0


async def audit_export(settings: Settings, *, since: datetime, output: str | None) -> int:
    async with AsyncExitStack() as stack, connected(settings) as conn:
        # Writes are small and sequential; a blocking file is simpler than a thread per line.
        out: BinaryIO = (
            stack.enter_context(open(output, "wb"))  # noqa: ASYNC230, SIM115
            if output
            else sys.stdout.buffer
        )
        count = 0
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            async for line in export_events(conn, since=since):
                out.write(line)
                count += 1
        out.flush()
    print(f"exported {count} events", file=sys.stderr)
    return 0
