"""Archiving old audit months with a signed chain checkpoint.

The trail lives in monthly partitions. ``idsvc audit archive --before YYYY-MM --to DIR``
writes every month before the cutoff, in chain order, to a JSON-lines file, signs a
checkpoint (ES256, the service's current signing key) naming the file's SHA-256, the
positions it holds and the hash of its last event, records the checkpoint
(``audit_checkpoints``, and its one ``audit.archived`` event in the trail) and moves the
chain's anchor past it, then drops those partitions. ``idsvc audit verify`` then starts at
the anchor; ``idsvc audit verify-archive FILE`` recomputes the archived chain and checks it
ends where the recorded checkpoint says — so verification still spans the gap, from the
first event ever to the newest. The files are the owner's alone (``private_files``).

Refused, changing nothing: unsealed events in those months, events of those months in the
default partition (a clock that was off), archived positions that would not be a prefix of
the chain, or an archive of that name already recorded or on disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from idsvc.archive.private_files import private_folder, write_new_file
from idsvc.audit.chain import row_hash
from idsvc.audit.checkpoints import (
    ARCHIVED,
    Checkpoint,
    CheckpointRecord,
    read_checkpoint,
    record_problem,
)
from idsvc.audit.errors import (
    ArchiveExists,
    NothingToArchive,
    NotPrefix,
    StrayEvents,
    UnsealedEvents,
)
from idsvc.audit.events import record_event
from idsvc.db import Connection
from idsvc.errors import BadRequest
from idsvc.jose.jwk import key_from_public_jwk, thumbprint
from idsvc.jose.jws import sign_compact, verify_signature
from idsvc.keys.ring import KeyRing

__all__ = ["ArchiveResult", "Checkpoint", "archive_before", "verify_archive"]

_PARTITION = re.compile(r"^audit_events_y(\d{4})m(\d{2})$")
_PARTITIONS = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'audit_events'::regclass
"""
_HEAD = "SELECT anchor_pos, anchor_hash FROM audit_chain WHERE id = 1 FOR UPDATE"
_MOVE_ANCHOR = "UPDATE audit_chain SET anchor_pos = $1, anchor_hash = $2 WHERE id = 1"
_STRAY = "SELECT count(*) FROM audit_events_default WHERE occurred_at < $1"
_FIRST_KEPT = """
SELECT min(chain_pos) FROM audit_events WHERE occurred_at >= $1 AND chain_pos IS NOT NULL
"""
_RECORDED = "SELECT EXISTS (SELECT FROM audit_checkpoints WHERE file_name = $1)"
_INSERT_CHECKPOINT = """
INSERT INTO audit_checkpoints (anchor_pos, anchor_hash, file_name, file_sha256, events,
                               checkpoint, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
_encoder = msgspec.json.Encoder(order="sorted")


class ArchiveResult(msgspec.Struct, frozen=True, kw_only=True):
    checkpoint: Checkpoint
    file: Path
    signed: str


def _months_before(names: Sequence[str], cutoff: datetime) -> list[str]:
    chosen = []
    for name in names:
        if (match := _PARTITION.match(name)) is None:
            continue
        start = datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)
        if start < cutoff:
            chosen.append(name)
    return sorted(chosen)


def _line(row: Any) -> bytes:
    return _encoder.encode(
        {
            "seq": row["seq"],
            "occurred_at": row["occurred_at"].isoformat(),
            "actor": row["actor"],
            "action": row["action"],
            "target": row["target"],
            "data": row["data"],
            "chain_pos": row["chain_pos"],
            "prev_hash": row["prev_hash"].hex(),
            "hash": row["hash"].hex(),
        }
    )


async def archive_before(
    conn: Connection, *, cutoff: datetime, directory: Path, ring: KeyRing, now: datetime
) -> ArchiveResult | None:
    """Run in a transaction. None when no month before ``cutoff`` is left to archive."""
    if cutoff > datetime(now.year, now.month, 1, tzinfo=UTC):
        # The current month is still being written, and dropping a future month would
        # send its events to the default partition for good.
        raise BadRequest("archive only months that have ended")
    months = _months_before([r["relname"] for r in await conn.fetch(_PARTITIONS)], cutoff)
    if not months:
        return None
    head = await conn.fetchrow(_HEAD)
    assert head is not None
    if await conn.fetchval(_STRAY, cutoff):
        raise StrayEvents("the default partition holds events of those months")
    rows = []
    for month in months:
        # A partition name we matched against _PARTITION, never input.
        part = await conn.fetch(f'SELECT * FROM "{month}" ORDER BY chain_pos')  # noqa: S608
        if any(r["hash"] is None for r in part):
            raise UnsealedEvents(f"{month} holds unsealed events; seal first")
        rows.extend(part)
    rows.sort(key=lambda r: r["chain_pos"])
    if not rows:
        raise NothingToArchive("those months hold no events")
    positions = [r["chain_pos"] for r in rows]
    first_kept = await conn.fetchval(_FIRST_KEPT, cutoff)
    if (
        positions[0] != head["anchor_pos"]
        or positions != list(range(positions[0], positions[0] + len(positions)))
        or (first_kept is not None and first_kept != positions[-1] + 1)
    ):
        raise NotPrefix("the archived events would not be a prefix of the chain")
    body = b"\n".join(_line(r) for r in rows) + b"\n"
    first, last = (m.removeprefix("audit_events_") for m in (months[0], months[-1]))
    name = f"audit-{first}-{last}.jsonl"
    if await conn.fetchval(_RECORDED, name):
        # Checked before any file is written: the recorded archive's file stays as it is,
        # and the database would refuse a second checkpoint, or event, for this name.
        raise ArchiveExists(f"an archive named {name} is already recorded")
    path = directory / name
    await asyncio.to_thread(private_folder, directory)
    await asyncio.to_thread(write_new_file, path, body)
    checkpoint = Checkpoint(
        first_pos=positions[0],
        last_pos=positions[-1],
        anchor_pos=positions[-1] + 1,
        anchor_hash=rows[-1]["hash"].hex(),
        previous_hash=head["anchor_hash"].hex(),
        file=name,
        sha256=hashlib.sha256(body).hexdigest(),
        events=len(rows),
        partitions=months,
        created_at=now.isoformat(),
    )
    signer = ring.signing_key("ES256", now)
    header = {"alg": signer.alg, "kid": signer.kid, "typ": "audit-checkpoint+jwt",
              "jwk": signer.public_jwk}  # fmt: skip
    signed = sign_compact(header, _encoder.encode(checkpoint), signer.private_key, signer.alg)
    await asyncio.to_thread(
        write_new_file, directory / f"{name}.checkpoint.jwt", signed.encode() + b"\n"
    )
    await conn.execute(
        _INSERT_CHECKPOINT, checkpoint.anchor_pos, rows[-1]["hash"], name, checkpoint.sha256,
        len(rows), signed, now,
    )  # fmt: skip
    await conn.execute(_MOVE_ANCHOR, checkpoint.anchor_pos, rows[-1]["hash"])
    for month in months:
        await conn.execute(f'ALTER TABLE audit_events DETACH PARTITION "{month}"')
        await conn.execute(f'DROP TABLE "{month}"')
    await record_event(
        conn,
        at=now,
        actor="system:audit-archive",
        action=ARCHIVED,
        target="audit",
        # In the kept, hash-chained trail, naming the checkpoint's key and contents. It
        # claims the checkpoint row as it is inserted (migration 0028): the one event of
        # this archive, which `audit verify` compares with the checkpoint.
        data={
            **msgspec.to_builtins(checkpoint),
            "kid": signer.kid,
            "jwk_thumbprint": thumbprint(signer.public_jwk),
        },
    )
    return ArchiveResult(checkpoint=checkpoint, file=path, signed=signed)


def verify_archive(
    name: str,
    body: bytes,
    signed: str,
    *,
    records: Sequence[CheckpointRecord],
    anchor_pos: int,
    anchor_hash: bytes,
) -> list[str]:
    """Problems found in the archive ``name`` (empty: it is whole, in order, and ends where
    the checkpoint recorded when it was made says). ``signed`` is the checkpoint file beside
    it; ``records`` every recorded checkpoint and ``anchor_*`` where the kept trail starts.

    The archive is checked against the *recorded* checkpoint, written in the transaction
    that dropped its months, never against an ``audit.archived`` event: a forger who may
    append events cannot change which checkpoint a file name was recorded with."""
    record = next((r for r in records if r.file_name == name), None)
    if record is None:
        return [f"the audit trail records no archive named {name}"]
    problems: list[str] = []
    if (why := record_problem(records, anchor_pos, anchor_hash)) is not None:
        problems.append(why)
    if signed.strip() != record.checkpoint:
        problems.append(
            "the checkpoint beside the archive is not the one recorded when the archive was made"
        )
    checkpoint = read_checkpoint(record.checkpoint)
    if checkpoint is None:
        return [*problems, "the recorded checkpoint is not a signed checkpoint"]
    # Only someone who gets past the record's triggers could change it, and then must sign
    # it with a key of their own: the hash-chained audit.archived event names the real one
    # (compared by the caller, and by `audit verify`).
    try:
        key = key_from_public_jwk(checkpoint.jwk)
        verified = verify_signature(
            checkpoint.alg, key, checkpoint.signing_input, checkpoint.signature
        )
    except ValueError:
        verified = False
    if not verified:
        problems.append("the recorded checkpoint's signature does not verify")
    claims = checkpoint.claims
    if hashlib.sha256(body).hexdigest() != claims.sha256:
        problems.append("the archive file is not the one the checkpoint names (SHA-256)")
    previous = bytes.fromhex(claims.previous_hash)
    expected = claims.first_pos
    for line in body.splitlines():
        try:
            event = msgspec.json.decode(line, type=dict[str, Any])
            row = {**event, "occurred_at": datetime.fromisoformat(event["occurred_at"])}
            position, links_to = event["chain_pos"], bytes.fromhex(event["prev_hash"])
        except (ValueError, KeyError, TypeError, msgspec.DecodeError):
            problems.append(f"position {expected}: not an archived event")
            break
        if position != expected or links_to != previous:
            problems.append(f"position {expected}: missing, reordered or relinked")
            break
        computed = row_hash(previous, expected, row)
        if computed.hex() != event.get("hash"):
            problems.append(f"position {expected}: altered")
            break
        previous, expected = computed, expected + 1
    ends_right = previous.hex() == claims.anchor_hash and expected == claims.anchor_pos
    if not problems and not ends_right:
        problems.append("the archive does not end where the checkpoint says")
    return problems
