"""The record of archived months: the signed checkpoint each archive left in
``audit_checkpoints``, in the transaction that dropped its partitions, and the one
``audit.archived`` event recorded with it.

Verification trusts this record, never the newest ``audit.archived`` event: anyone allowed to
write audit events could append one vouching for a forged archive (the database now refuses
it, migration 0028, but a superuser gets past triggers). The record is a chain of its own:
the first archive starts at the chain's first event, each next one where the one before it
ended, and the last ends at the anchor the kept trail starts from; so an extra or edited
checkpoint, or an anchor moved without an archive, does not fit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from idsvc.db import rows_to
from idsvc.jose.base64url import b64url_decode
from idsvc.jose.jwk import thumbprint

if TYPE_CHECKING:
    from idsvc.db import Connection

__all__ = [
    "ARCHIVED",
    "Checkpoint",
    "CheckpointRecord",
    "SignedCheckpoint",
    "archived_event_problem",
    "checkpoint_records",
    "read_checkpoint",
    "record_problem",
]

ARCHIVED = "audit.archived"
# The hash the first event of the chain links to (audit_chain's initial anchor).
_GENESIS = bytes(32)
_SELECT_RECORDS = """
SELECT anchor_pos, anchor_hash, file_name, file_sha256, events, checkpoint, event_seq
FROM audit_checkpoints ORDER BY anchor_pos
"""


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """The claims of a signed checkpoint (``typ: audit-checkpoint+jwt``)."""

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


class CheckpointRecord(msgspec.Struct, frozen=True, kw_only=True):
    anchor_pos: int
    anchor_hash: bytes
    file_name: str
    file_sha256: str
    events: int
    # The compact JWS, as signed when the archive was made.
    checkpoint: str
    # The seq of its one audit.archived event; 0 when the checkpoint predates migration
    # 0028 and its event had already left with a later archive.
    event_seq: int | None


async def checkpoint_records(conn: Connection) -> list[CheckpointRecord]:
    """Every checkpoint, oldest first."""
    return rows_to(CheckpointRecord, await conn.fetch(_SELECT_RECORDS))


class SignedCheckpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A compact JWS checkpoint taken apart; its signature not yet checked."""

    alg: str
    jwk: dict[str, Any]
    jwk_thumbprint: str
    claims: Checkpoint
    signing_input: bytes
    signature: bytes


class _Header(msgspec.Struct, frozen=True):
    alg: str
    jwk: dict[str, Any]


def read_checkpoint(signed: str) -> SignedCheckpoint | None:
    """The parts of a compact JWS checkpoint; None when it is not one."""
    parts = signed.strip().split(".")
    if len(parts) != 3:  # header, payload, signature
        return None
    try:
        header = msgspec.json.decode(b64url_decode(parts[0]), type=_Header)
        return SignedCheckpoint(
            alg=header.alg,
            jwk=header.jwk,
            jwk_thumbprint=thumbprint(header.jwk),
            claims=msgspec.json.decode(b64url_decode(parts[1]), type=Checkpoint),
            signing_input=f"{parts[0]}.{parts[1]}".encode(),
            signature=b64url_decode(parts[2]),
        )
    except (ValueError, KeyError, msgspec.DecodeError):
        return None


def record_problem(
    records: Sequence[CheckpointRecord], anchor_pos: int, anchor_hash: bytes
) -> str | None:
    """Why the record does not account for the chain before the anchor (None: it does)."""
    pos, previous = 1, _GENESIS
    for record in records:
        signed = read_checkpoint(record.checkpoint)
        if signed is None:
            return f"the recorded checkpoint of {record.file_name} is not a signed checkpoint"
        point = signed.claims
        if (point.first_pos, point.previous_hash) != (pos, previous.hex()):
            return (
                f"the recorded archive {record.file_name} does not start where the chain "
                "(or the archive before it) ends"
            )
        # The row's columns are what the archiving code path wrote beside the JWS: they
        # must say the same, or one of them was edited.
        if (
            point.file != record.file_name
            or point.sha256 != record.file_sha256
            or point.anchor_pos != record.anchor_pos
            or point.anchor_hash != record.anchor_hash.hex()
            or point.last_pos + 1 != point.anchor_pos
            or point.events != record.events
            or point.events != point.last_pos - point.first_pos + 1
        ):
            return f"the recorded checkpoint of {record.file_name} disagrees with its row"
        pos, previous = record.anchor_pos, record.anchor_hash
    if (pos, previous) != (anchor_pos, anchor_hash):
        return (
            f"the kept trail starts at position {anchor_pos}, but the recorded archives end "
            f"at position {pos - 1}: the anchor was moved without an archive"
        )
    return None


def archived_event_problem(
    seq: int, data: Mapping[str, Any], records: Mapping[str, CheckpointRecord]
) -> str | None:
    """Why an ``audit.archived`` event is not the one recorded with its checkpoint (None: it
    is). ``records`` by file name."""
    file = data.get("file")
    record = records.get(file) if isinstance(file, str) else None
    if record is None:
        return f"records an archive {file!r} that no checkpoint names"
    if record.event_seq != seq:
        # Never the newest event wins: the checkpoint names its own, recorded with it.
        return f"is a second audit.archived event for {file}"
    signed = read_checkpoint(record.checkpoint)
    if signed is None:
        return f"names a checkpoint of {file} that is not a signed checkpoint"
    point = signed.claims
    expected = {
        "file": point.file,
        "sha256": point.sha256,
        "first_pos": point.first_pos,
        "last_pos": point.last_pos,
        "anchor_pos": point.anchor_pos,
        "anchor_hash": point.anchor_hash,
        "previous_hash": point.previous_hash,
        "jwk_thumbprint": signed.jwk_thumbprint,
    }
    if any(data.get(name) != value for name, value in expected.items()):
        return f"does not match the checkpoint recorded for {file}"
    return None
