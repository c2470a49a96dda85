"""Archiving old months of the audit trail with a signed chain checkpoint, as an operator
runs it: the kept trail verifies from its new anchor, the archive verifies against its
checkpoint, together they span the whole chain; a tampered archive is named, and an archive
is judged by the record made when its months were dropped, never by a later event."""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from idsvc import db
from idsvc.archive import archive_before
from idsvc.audit import record_event
from idsvc.audit.chain import row_hash
from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.jose.base64url import b64url_decode
from idsvc.jose.jwk import public_jwk_from_key, thumbprint
from idsvc.jose.jws import sign_compact
from idsvc.keys.ring import KeyRing
from idsvc.keys.rotation import ensure_keys
from idsvc.keys.service import rotation_policy
from idsvc.settings import KeySettings
from tests.support.audit import seal_all, tamper
from tests.support.cli import run_idsvc

AUGUST = datetime(2026, 8, 10, tzinfo=UTC)
ARCHIVE_NAME = "audit-y2026m08-y2026m08.jsonl"
# What anyone allowed to write audit events can run: no chain columns, so the append-only
# trigger of migration 0001 lets it through.
_INSERT_ARCHIVED = """
INSERT INTO audit_events (occurred_at, actor, action, target, data)
VALUES (now(), 'system:audit-archive', 'audit.archived', 'audit', $1)
"""

Idsvc = Callable[..., Awaitable[tuple[int, str, str]]]


class Archived(NamedTuple):
    archive: Path
    kek: KeyEncryptionKey
    idsvc: Idsvc


async def _events(pool: db.Pool, at: datetime, count: int) -> None:
    async with db.transaction(pool) as conn:
        for i in range(count):
            await record_event(
                conn, at=at + timedelta(minutes=i), actor="test", action="test.event",
                target=f"thing:{i}", data={"i": i},
            )  # fmt: skip


async def _august(pool: db.Pool, database_url: str) -> tuple[KeyEncryptionKey, Idsvc]:
    """Twelve events of August 2026, a signing key, five events of this month; and the
    ``idsvc`` command with the key-encryption key."""
    kek_text = secrets.token_urlsafe(32)
    kek = KeyEncryptionKey.from_text(kek_text.encode())
    await pool.execute(
        "CREATE TABLE audit_events_y2026m08 PARTITION OF audit_events"
        " FOR VALUES FROM ('2026-08-01 00:00+00') TO ('2026-09-01 00:00+00')"
    )
    await _events(pool, AUGUST, 12)
    async with db.transaction(pool) as conn:
        await ensure_keys(conn, algorithms=("ES256",), now=datetime.now(UTC),
                          policy=rotation_policy(KeySettings()), kek=kek)  # fmt: skip
    await _events(pool, datetime.now(UTC), 5)

    async def idsvc(*args: str) -> tuple[int, str, str]:
        return await run_idsvc(*args, database_url=database_url, kek=kek_text)

    return kek, idsvc


async def _archive_august(pool: db.Pool, database_url: str, folder: Path) -> Archived:
    """August archived into ``folder`` by ``idsvc audit archive``."""
    kek, idsvc = await _august(pool, database_url)
    code, out, err = await idsvc("audit", "archive", "--before", "2026-09", "--to", str(folder))
    assert code == 0, err
    assert "archived 12 events" in out
    return Archived(archive=folder / ARCHIVE_NAME, kek=kek, idsvc=idsvc)


class Forgery(NamedTuple):
    archive: Path
    checkpoint: str
    # The audit.archived data that would vouch for it.
    claim: dict[str, Any]


def _forge(archive: Path, folder: Path) -> Forgery:
    """A copy of ``archive`` in ``folder`` with one event rewritten and every hash from it on
    recomputed (a whole chain of its own), and a checkpoint naming its SHA-256 and last hash
    that a forger signed with a key of their own."""
    events = [msgspec.json.decode(line) for line in archive.read_bytes().splitlines()]
    events[3]["target"] = "thing:gone"
    previous = bytes.fromhex(events[0]["prev_hash"])
    for event in events:
        event["prev_hash"] = previous.hex()
        row = {**event, "occurred_at": datetime.fromisoformat(event["occurred_at"])}
        previous = row_hash(previous, event["chain_pos"], row)
        event["hash"] = previous.hex()
    encoder = msgspec.json.Encoder(order="sorted")
    forged_body = b"".join(encoder.encode(event) + b"\n" for event in events)
    signed = Path(f"{archive}.checkpoint.jwt").read_text()
    claims = msgspec.json.decode(b64url_decode(signed.strip().split(".")[1]))
    claims["sha256"] = hashlib.sha256(forged_body).hexdigest()
    claims["anchor_hash"] = previous.hex()
    mine = ec.generate_private_key(ec.SECP256R1())
    jwk = msgspec.to_builtins(public_jwk_from_key(mine.public_key(), kid="forger", alg="ES256"))
    forged = sign_compact(
        {"alg": "ES256", "kid": "forger", "typ": "audit-checkpoint+jwt", "jwk": jwk},
        msgspec.json.encode(claims), mine, "ES256",
    )  # fmt: skip
    folder.mkdir()
    (folder / archive.name).write_bytes(forged_body)
    (folder / f"{archive.name}.checkpoint.jwt").write_text(forged)
    claim = {**claims, "kid": "forger", "jwk_thumbprint": thumbprint(jwk)}
    return Forgery(archive=folder / archive.name, checkpoint=forged, claim=claim)


async def test_old_months_are_archived_and_the_chain_still_spans_them(
    pool: db.Pool, database_url: str, tmp_path: Path
) -> None:
    archived = await _archive_august(pool, database_url, tmp_path / "archives")
    archive, idsvc = archived.archive, archived.idsvc
    assert await pool.fetchval("SELECT to_regclass('audit_events_y2026m08')") is None
    assert stat.S_IMODE(archive.parent.stat().st_mode) == 0o700  # created private
    code, out, err = await idsvc("audit", "verify", "--seal")
    assert code == 0, err  # from the new anchor: the kept events, and the archive event
    code, out, err = await idsvc("audit", "verify-archive", str(archive))
    assert code == 0, err
    assert "archive OK" in out
    checkpoint = await pool.fetchrow("SELECT anchor_pos, events FROM audit_checkpoints")
    assert checkpoint["events"] == 12
    first_kept = await pool.fetchval("SELECT min(chain_pos) FROM audit_events")
    assert first_kept == checkpoint["anchor_pos"]  # no gap between archive and trail

    # A forger who rewrites the archive and re-signs its checkpoint with a key of their own
    # is refused: the checkpoint recorded when the months were dropped names the real key
    # and file hash.
    forged_archive = _forge(archive, tmp_path / "forged").archive
    code, _, err = await idsvc("audit", "verify-archive", str(forged_archive))
    assert code == 1
    assert "not the one recorded when the archive was made" in err
    assert "not the one the checkpoint names (SHA-256)" in err

    # The current month is still being written: refused.
    code, _, err = await idsvc(
        "audit", "archive", "--before", "2099-01", "--to", str(tmp_path / "archives")
    )
    assert code == 1
    assert "only months that have ended" in err

    # An archived event edited afterwards: named, by position.
    lines = archive.read_text().splitlines()
    lines[4] = lines[4].replace('"thing:4"', '"thing:forged"')
    archive.write_text("\n".join(lines) + "\n")
    code, _, err = await idsvc("audit", "verify-archive", str(archive))
    assert code == 1
    assert "SHA-256" in err
    assert "position 5: altered" in err

    # Nothing older is left: a second run archives nothing, and says so.
    code, out, _ = await idsvc(
        "audit", "archive", "--before", "2026-09", "--to", str(tmp_path / "archives")
    )
    assert code == 0
    assert "nothing to archive" in out


async def test_a_forged_archive_event_neither_passes_nor_overrides_the_record(
    pool: db.Pool, database_url: str, tmp_path: Path
) -> None:
    archived = await _archive_august(pool, database_url, tmp_path / "archives")
    forgery = _forge(archived.archive, tmp_path / "forged")
    forged_archive, claim = forgery.archive, forgery.claim

    # Anyone who may write audit events tries to vouch for the forgery: the database refuses
    # (the checkpoint's one event was recorded when the months were dropped).
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match=r"audit\.archived"):
        await pool.execute(_INSERT_ARCHIVED, claim)

    # Someone who gets past the trigger (a superuser) appends it anyway: the newest event
    # does not win, the checkpoint recorded at archive time decides.
    await tamper(pool, _INSERT_ARCHIVED, claim)
    code, _, err = await archived.idsvc("audit", "verify-archive", str(forged_archive))
    assert code == 1
    assert "checkpoint beside the archive is not the one recorded" in err
    assert "not the one the checkpoint names (SHA-256)" in err
    code, out, err = await archived.idsvc("audit", "verify-archive", str(archived.archive))
    assert code == 0, err
    assert "archive OK" in out
    assert "TAMPERED: event seq" in err
    assert f"a second audit.archived event for {ARCHIVE_NAME}" in err
    code, _, err = await archived.idsvc("audit", "verify", "--seal")
    assert code == 1
    assert f"a second audit.archived event for {ARCHIVE_NAME}" in err

    # A superuser who also rewrites the checkpoint row for the forgery: the hash-chained
    # event recorded with it names the real key and file hash.
    await tamper(
        pool,
        "UPDATE audit_checkpoints SET checkpoint = $1, file_sha256 = $2",
        forgery.checkpoint, claim["sha256"],
    )  # fmt: skip
    code, _, err = await archived.idsvc("audit", "verify-archive", str(forged_archive))
    assert code == 1
    assert "does not match the audit.archived event recorded with it" in err


async def test_a_second_archive_event_for_the_same_file_is_refused_and_reported(
    pool: db.Pool, database_url: str, tmp_path: Path
) -> None:
    archived = await _archive_august(pool, database_url, tmp_path / "archives")
    # An exact copy of the genuine event: it claims nothing new, but an archive is recorded
    # once, so a copy is refused, and reported if it got in.
    genuine = await pool.fetchval("SELECT data FROM audit_events WHERE action = 'audit.archived'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match=r"audit\.archived"):
        await pool.execute(_INSERT_ARCHIVED, genuine)
    await tamper(pool, _INSERT_ARCHIVED, genuine)
    code, _, err = await archived.idsvc("audit", "verify", "--seal")
    assert code == 1
    assert f"a second audit.archived event for {ARCHIVE_NAME}" in err


async def test_an_archive_still_verifies_once_its_event_left_with_a_later_archive(
    pool: db.Pool, database_url: str, tmp_path: Path
) -> None:
    archived = await _archive_august(pool, database_url, tmp_path / "archives")
    # In January 2027, December 2026 is archived too, and with it the audit.archived event
    # of August: the checkpoint recorded at archive time still vouches for August.
    january = datetime(2027, 1, 15, tzinfo=UTC)
    await seal_all(pool)
    ring = KeyRing(archived.kek)
    async with db.transaction(pool) as conn:
        await ring.reload(conn, january)
        result = await archive_before(
            conn, cutoff=datetime(2027, 1, 1, tzinfo=UTC), directory=tmp_path / "archives",
            ring=ring, now=january,
        )  # fmt: skip
    assert result is not None
    assert "audit_events_y2026m12" in result.checkpoint.partitions
    assert await pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE data->>'file' = $1", ARCHIVE_NAME
    ) == 0  # fmt: skip
    for archive in (archived.archive, result.file):
        code, _, err = await archived.idsvc("audit", "verify-archive", str(archive))
        assert code == 0, err
    code, _, err = await archived.idsvc("audit", "verify", "--seal")
    assert code == 0, err


async def test_archive_files_are_private_and_never_overwritten(
    pool: db.Pool, database_url: str, tmp_path: Path
) -> None:
    # The archive holds every event of its months (before migration 0022, personal values
    # in clear): its folder is 0700 and its files 0600 whatever the umask, and a folder
    # that was wider is narrowed.
    folder = tmp_path / "archives"
    folder.mkdir()
    folder.chmod(0o777)
    stale = folder / ARCHIVE_NAME
    stale.write_text("an earlier archive, or another database's\n")
    _, idsvc = await _august(pool, database_url)
    archive = ("audit", "archive", "--before", "2026-09", "--to", str(folder))
    previous_umask = os.umask(0)
    try:
        code, _, err = await idsvc(*archive)
        assert code == 1
        assert "already exists" in err
        assert "Traceback" not in err
        assert stale.read_text() == "an earlier archive, or another database's\n"
        assert await pool.fetchval("SELECT to_regclass('audit_events_y2026m08')") is not None
        stale.unlink()
        code, _, err = await idsvc(*archive)
    finally:
        os.umask(previous_umask)
    assert code == 0, err
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in (ARCHIVE_NAME, f"{ARCHIVE_NAME}.checkpoint.jwt"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name


async def test_an_archive_name_already_recorded_is_refused_before_any_file_is_written(
    pool: db.Pool, database_url: str, tmp_path: Path
) -> None:
    _, idsvc = await _august(pool, database_url)
    await pool.execute(
        """INSERT INTO audit_checkpoints (anchor_pos, anchor_hash, file_name, file_sha256,
                                          events, checkpoint, created_at)
           VALUES (13, '\\x00', $1, 'aa', 12, 'a.b.c', now())""",
        ARCHIVE_NAME,
    )
    folder = tmp_path / "archives"
    code, _, err = await idsvc("audit", "archive", "--before", "2026-09", "--to", str(folder))
    assert code == 1
    assert f"an archive named {ARCHIVE_NAME} is already recorded" in err
    assert not folder.exists()
