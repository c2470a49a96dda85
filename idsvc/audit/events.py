"""Writing audit events: one INSERT in the caller's transaction, no lock, no hashing.

Writers never contend with each other: the chain is built afterwards by the sealer, so
auditing adds one index-friendly INSERT to a business transaction and nothing more.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import msgspec

if TYPE_CHECKING:
    from collections.abc import Mapping

    from idsvc.db import Connection

__all__ = ["AuditEvent", "record_event", "record_events"]

_INSERT_EVENT = """
INSERT INTO audit_events (occurred_at, actor, action, target, data)
VALUES ($1, $2, $3, $4, $5)
RETURNING seq
"""


class AuditEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event as stored; chain fields are None until sealed."""

    seq: int
    occurred_at: datetime
    actor: str
    action: str
    target: str
    data: dict[str, object]
    chain_pos: int | None = None
    prev_hash: bytes | None = None
    hash: bytes | None = None


# Bounds mirror the table's CHECK constraints so a bad event fails before the round trip.
Actor = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Action = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


async def record_event(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    target: str = "",
    data: Mapping[str, object] | msgspec.Struct | None = None,
) -> int:
    """Append an event in the caller's transaction and return its sequence number.

    ``actor`` names who acted (``user:<id>``, ``scim:<token id>``, ``system``,
    ``cli:<login>``); ``action`` is a dotted verb (``org.member.removed``); ``target`` the
    thing acted on. ``data`` must hold no secrets.
    """
    if not conn.is_in_transaction():
        # An event outside a transaction could commit without the change it describes,
        # or the change without its event.
        raise RuntimeError("record_event must run inside the caller's transaction")
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    payload = msgspec.to_builtins(data) if isinstance(data, msgspec.Struct) else dict(data or {})
    seq: int = await conn.fetchval(_INSERT_EVENT, at, actor, action, target, payload)
    return seq


async def record_events(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    events: list[tuple[str, Mapping[str, object]]],
) -> None:
    """Many events of one action, as (target, data) pairs, pipelined in one round trip
    (bulk enrolment writes one event per person and must stay fast)."""
    if not conn.is_in_transaction():
        raise RuntimeError("record_events must run inside the caller's transaction")
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    await conn.executemany(
        _INSERT_EVENT, [(at, actor, action, target, dict(data)) for target, data in events]
    )
