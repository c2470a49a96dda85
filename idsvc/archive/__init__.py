"""Archiving old audit months with a signed chain checkpoint.

The trail lives in monthly partitions. ``idsvc audit archive --before YYYY-MM --to DIR``
writes every month before the cutoff, in chain order, to a JSON-lines file, signs a
checkpoint (ES256, the service's current signing key) naming the file's SHA-256, the
positions it holds and the hash of its last event, records the checkpoint in the trail
(``audit.archived``) and moves the chain's anchor past it, then drops those partitions.
``idsvc audit verify`` then starts at the anchor; ``idsvc audit verify-archive FILE``
recomputes the archived chain and checks it ends where the checkpoint says — so
verification still spans the gap, from the first event ever to the newest.

Refused, changing nothing: unsealed events in those months, events of those months in the
default partition (a clock that was off), or archived positions that would not be a
prefix of the chain.
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

from idsvc.audit.chain import row_hash
from idsvc.audit.errors import NothingToArchive, NotPrefix, StrayEvents, UnsealedEvents
from idsvc.audit.events import record_event
from idsvc.db import Connection
from idsvc.errors import BadRequest
from idsvc.jose.base64url import b64url_decode
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
_INSERT_CHECKPOINT = """
INSERT INTO audit_checkpoints (anchor_pos, anchor_hash, file_name, file_sha256, events,
                               checkpoint, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
_encoder = msgspec.json.Encoder(order="sorted")
# The hash the first event of the chain links to (audit_chain's initial anchor).
_GENESIS = "00" * 32


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    first_pos: int
    last_pos: int
    # Where verification of the kept trail starts, and the hash it links to.
    anchor_pos: int
    anchor_hash: str
    # The hash the archive's first event links to (the previous anchor).
    previous_hash: str
    file: str
    sha256: str
    events: int
    partitions: list[str]
    created_at: str


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


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


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
    path = directory / name
    await asyncio.to_thread(_write, path, body)
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
    await asyncio.to_thread(_write, directory / f"{name}.checkpoint.jwt", signed.encode() + b"\n")
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
        action="audit.archived",
        target="audit",
        # In the kept, hash-chained trail: verify-archive pins the checkpoint's key and
        # contents to this event, so a re-signed forgery does not pass.
        data={
            **msgspec.to_builtins(checkpoint),
            "kid": signer.kid,
            "jwk_thumbprint": thumbprint(signer.public_jwk),
        },
    )
    return ArchiveResult(checkpoint=checkpoint, file=path, signed=signed)


def verify_archive(
    archive: Path, signed: str, *, recorded: dict[str, Any], earlier: dict[str, Any] | None
) -> list[str]:
    """Problems found (empty: the archive is whole, in order, ends where its signed
    checkpoint says, and is the one the kept trail recorded). ``recorded`` is the
    ``audit.archived`` event of this file in the kept trail — hash-chained, so it pins the
    checkpoint's key and contents: a file re-signed with another key does not pass;
    ``earlier`` the one before it (None: the archive must start the chain)."""
    problems: list[str] = []
    header_b64, payload_b64, signature_b64 = signed.strip().split(".")
    header = msgspec.json.decode(b64url_decode(header_b64))
    checkpoint = msgspec.json.decode(b64url_decode(payload_b64), type=Checkpoint)
    if thumbprint(header["jwk"]) != recorded.get("jwk_thumbprint"):
        problems.append("the checkpoint is signed by a key the audit trail did not record")
    for field in ("sha256", "anchor_hash", "previous_hash", "first_pos", "last_pos", "file"):
        if getattr(checkpoint, field) != recorded.get(field):
            problems.append(f"the checkpoint's {field} is not the one the audit trail recorded")
    start = (earlier or {}).get("anchor_hash", _GENESIS), (earlier or {}).get("anchor_pos", 1)
    if (checkpoint.previous_hash, checkpoint.first_pos) != start:
        problems.append(
            "the archive does not start where the chain (or the archive before it) ends"
        )
    key = key_from_public_jwk(header["jwk"])
    if not verify_signature(
        header["alg"], key, f"{header_b64}.{payload_b64}".encode(), b64url_decode(signature_b64)
    ):
        problems.append("the checkpoint's signature does not verify")
    body = archive.read_bytes()
    if hashlib.sha256(body).hexdigest() != checkpoint.sha256:
        problems.append("the archive file is not the one the checkpoint names (SHA-256)")
    previous = bytes.fromhex(checkpoint.previous_hash)
    expected = checkpoint.first_pos
    for line in body.splitlines():
        event = msgspec.json.decode(line)
        row = {**event, "occurred_at": datetime.fromisoformat(event["occurred_at"])}
        if event["chain_pos"] != expected or bytes.fromhex(event["prev_hash"]) != previous:
            problems.append(f"position {expected}: missing, reordered or relinked")
            break
        computed = row_hash(previous, expected, row)
        if computed.hex() != event["hash"]:
            problems.append(f"position {expected}: altered")
            break
        previous, expected = computed, expected + 1
    ends_right = previous.hex() == checkpoint.anchor_hash and expected == checkpoint.anchor_pos
    if not problems and not ends_right:
        problems.append("the archive does not end where the checkpoint says")
    return problems
