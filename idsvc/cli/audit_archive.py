"""``idsvc audit archive`` and ``idsvc audit verify-archive`` (idsvc.archive)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from idsvc.archive import archive_before, verify_archive
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


_RECORDED = """
SELECT data FROM audit_events WHERE action = 'audit.archived' AND data->>'file' = $1
ORDER BY seq DESC LIMIT 1
"""
_BEFORE = """
SELECT data FROM audit_events
WHERE action = 'audit.archived' AND (data->>'anchor_pos')::bigint = $1
ORDER BY seq DESC LIMIT 1
"""


async def audit_verify_archive(settings: Settings, archive: Path, checkpoint: Path | None) -> int:
    signed = (checkpoint or Path(f"{archive}.checkpoint.jwt")).read_text()
    async with connected(settings) as conn:
        recorded = await conn.fetchval(_RECORDED, archive.name)
        if recorded is None:
            print(
                f"archive BROKEN: the audit trail records no archive named {archive.name}",
                file=sys.stderr,
            )
            return 1
        previous = await conn.fetchval(_BEFORE, recorded["first_pos"])
    problems = verify_archive(archive, signed, recorded=recorded, earlier=previous)
    if problems:
        for problem in problems:
            print(f"archive BROKEN: {problem}", file=sys.stderr)
        return 1
    print(f"archive OK: {archive.name} is whole and ends where its signed checkpoint says")
    return 0
