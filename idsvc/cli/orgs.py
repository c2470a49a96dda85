"""``idsvc orgs import``: enrol staff from a CSV file from the command line, with progress
on the terminal for large files."""

from __future__ import annotations

import asyncio
import getpass
import sys
import uuid
from pathlib import Path

from idsvc.cli.connection import connected
from idsvc.clock import utc_now
from idsvc.errors import IdsvcError
from idsvc.orgs.enrolment.service import apply_import, parse_members_csv, plan_import
from idsvc.orgs.state_rules import ensure_org_may
from idsvc.settings import Settings

__all__ = ["import_members_file"]

# Locked until the import commits: a suspension waits for it, it never slips in between.
_ORG_STATUS = "SELECT status FROM organisations WHERE id = $1 FOR SHARE"


def _progress(done: int, total: int) -> None:
    print(f"\rapplying: {done}/{total}", end="", file=sys.stderr, flush=True)


async def import_members_file(
    settings: Settings, *, org: uuid.UUID, path: Path, dry_run: bool
) -> int:
    """Exit 0 when applied (or previewed), 1 when the file has errors, 2 for a bad org."""
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"idsvc: cannot read {path}: {exc}", file=sys.stderr)
        return 1
    rows, errors = parse_members_csv(text)
    if errors:
        for error in errors:
            column = f" ({error.column})" if error.column else ""
            print(f"{path}:{error.line}{column}: {error.reason}", file=sys.stderr)
        print(f"idsvc: {len(errors)} problem(s); nothing was applied", file=sys.stderr)
        return 1
    print(f"checked {len(rows)} rows", file=sys.stderr)
    async with connected(settings) as conn:
        try:
            async with conn.transaction():
                status = await conn.fetchval(_ORG_STATUS, org)
                if status is None:
                    print(f"idsvc: no organisation {org}", file=sys.stderr)
                    return 2
                # The same table as the API's: the CLI is one more channel, not a way round.
                ensure_org_may(status, "enroll")
                plan = await plan_import(conn, org, rows)
                if not dry_run:
                    await apply_import(
                        conn, org, plan, actor=f"cli:{getpass.getuser()}", now=utc_now(),
                        progress=_progress,
                    )  # fmt: skip
        except IdsvcError as exc:
            print(f"\nidsvc: refused: {exc.detail}; nothing was applied", file=sys.stderr)
            return 1
    verb = "would add" if dry_run else "added"
    print(
        f"\n{verb} {len(plan.add)}, changed the role of {len(plan.change_role)}, "
        f"removed {len(plan.remove)}, {plan.unchanged} unchanged"
    )
    return 0
