"""``idsvc audit archive`` and ``idsvc audit verify-archive`` (idsvc.archive)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from idsvc.archive import archive_before, verify_archive
from idsvc.audit.checkpoints import archived_event_problem, checkpoint_records
from idsvc.audit.sealer import seal_pending
from idsvc.cli.connection import connected
from idsvc.clock import utc_now
from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.errors import IdsvcError
from idsvc.keys.ring import KeyRing
from idsvc.settings import ConfigError, Settings

__all__ = ["audit_archive", "audit_verify_archive"]


def month_start(value: str) -> datetime:
    """``YYYY-MM`` as the first instant of that month (UTC)."""
    year, _, month = value.partition("-")
    return datetime(int(year), int(month), 1, tzinfo=UTC)


async def audit_archive(settings: Settings, *, before: datetime, directory: Path) -> int:
    if settings.secrets.key_encryption_key is None:
        raise ConfigError("IDSVC_KEY_ENCRYPTION_KEY is needed to sign the checkpoint")
    ring = KeyRing(KeyEncryptionKey.from_text(settings.secrets.key_encryption_key))
    now = utc_now()
    async with connected(settings) as conn:
        try:
            while await seal_pending(conn):
                pass
            await ring.reload(conn, now)
            async with conn.transaction():
                result = await archive_before(
                    conn, cutoff=before, directory=directory, ring=ring, now=now
                )
        except IdsvcError as exc:
            print(f"idsvc audit archive: {exc.detail}; nothing was archived", file=sys.stderr)
            return 1
        except OSError as exc:
            # Writing the files failed (disk full, a folder we may not write): the
            # transaction rolled back, the partitions are still there.
            print(f"idsvc audit archive: {exc}; nothing was archived", file=sys.stderr)
            return 1
    if result is None:
        print(f"nothing to archive before {before:%Y-%m}")
        return 0
    point = result.checkpoint
    print(
        f"archived {point.events} events (positions {point.first_pos}-{point.last_pos}) of "
        f"{', '.join(point.partitions)} to {result.file}; the chain now starts at "
        f"{point.anchor_pos}; checkpoint {result.file}.checkpoint.jwt"
    )
    return 0


_ANCHOR = "SELECT anchor_pos, anchor_hash FROM audit_chain WHERE id = 1"
# Every audit.archived event naming the file, sealed or not: any but the one recorded with
# its checkpoint is tampering, reported beside the archive's own verdict.
_ARCHIVED_EVENTS = """
SELECT seq, data FROM audit_events
WHERE action = 'audit.archived' AND data->>'file' = $1
ORDER BY seq
"""


async def audit_verify_archive(settings: Settings, archive: Path, checkpoint: Path | None) -> int:
    checkpoint = checkpoint or Path(f"{archive}.checkpoint.jwt")
    try:
        body = await asyncio.to_thread(archive.read_bytes)
        signed = await asyncio.to_thread(checkpoint.read_text)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"idsvc audit verify-archive: cannot read {exc}", file=sys.stderr)
        return 1
    async with (
        connected(settings) as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        records = await checkpoint_records(conn)
        anchor = await conn.fetchrow(_ANCHOR)
        events = await conn.fetch(_ARCHIVED_EVENTS, archive.name)
    assert anchor is not None
    problems = verify_archive(
        archive.name, body, signed, records=records,
        anchor_pos=anchor["anchor_pos"], anchor_hash=anchor["anchor_hash"],
    )  # fmt: skip
    by_file = {record.file_name: record for record in records}
    own = by_file[archive.name].event_seq if archive.name in by_file else None
    for event in events:
        if (why := archived_event_problem(event["seq"], event["data"], by_file)) is None:
            continue
        if event["seq"] == own:
            # The hash-chained event written with the checkpoint disagrees with it: the
            # checkpoint row was changed past its trigger, so it vouches for nothing.
            problems.append(
                f"the recorded checkpoint does not match the audit.archived event recorded "
                f"with it (seq {own})"
            )
        else:
            # Any other event never overrides the checkpoint; the kept trail is what it broke.
            print(
                f"audit trail TAMPERED: event seq {event['seq']} {why}; the checkpoint "
                "recorded with the archive stands (see idsvc audit verify)",
                file=sys.stderr,
            )
    if problems:
        for problem in problems:
            print(f"archive BROKEN: {problem}", file=sys.stderr)
        return 1
    print(f"archive OK: {archive.name} is whole and ends where its recorded checkpoint says")
    return 0
