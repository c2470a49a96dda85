"""The hash of one chained event: SHA-256 over the previous hash and a canonical encoding.

The canonical form is a JSON array with object keys sorted, so the sealer and any later
verifier (this code, or an auditor's script from docs/audit.md) compute the same bytes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec

__all__ = ["GENESIS_HASH", "canonical_event", "event_hash", "row_hash"]

GENESIS_HASH = bytes(32)
_encoder = msgspec.json.Encoder(order="sorted")


def canonical_event(
    *,
    chain_pos: int,
    seq: int,
    occurred_at: datetime,
    actor: str,
    action: str,
    target: str,
    data: object,
) -> bytes:
    when = occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return _encoder.encode([chain_pos, seq, when, actor, action, target, data])


def event_hash(prev_hash: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(prev_hash + canonical).digest()


class EventRow(Protocol):
    """A database record (or dict) with the event columns."""

    def __getitem__(self, key: str, /) -> Any: ...


def row_hash(prev_hash: bytes, chain_pos: int, row: EventRow) -> bytes:
    """The hash of a stored event (a row with the event columns) at ``chain_pos``: what the
    sealer writes and what verification recomputes."""
    return event_hash(
        prev_hash,
        canonical_event(
            chain_pos=chain_pos,
            seq=row["seq"],
            occurred_at=row["occurred_at"],
            actor=row["actor"],
            action=row["action"],
            target=row["target"],
            data=row["data"],
        ),
    )
