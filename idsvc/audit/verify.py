"""Recomputing the chain: proves the trail whole or names the first broken event.

Reads sealed events in chain order through a cursor (constant memory) inside one
repeatable-read snapshot, so the head row and the events agree while the sealer works.

The trail kept in the database starts at the anchor; the record of archives
(``idsvc.audit.checkpoints``) must account for everything before it, and every
``audit.archived`` event must be the one recorded with its checkpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import msgspec

from idsvc.audit.chain import row_hash
from idsvc.audit.checkpoints import (
    ARCHIVED,
    CheckpointRecord,
    archived_event_problem,
    checkpoint_records,
    record_problem,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from asyncpg import Record

    from idsvc.db import Connection

__all__ = ["ChainProblem", "ChainReport", "verify_chain"]

_SELECT_HEAD = "SELECT last_pos, last_hash, anchor_pos, anchor_hash FROM audit_chain WHERE id = 1"
_SELECT_SEALED = """
SELECT seq, occurred_at, actor, action, target, data, chain_pos, prev_hash, hash
FROM audit_events
WHERE chain_pos >= $1
ORDER BY chain_pos
"""
_COUNT_UNSEALED = "SELECT count(*) FROM audit_events WHERE hash IS NULL"


class ChainProblem(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["altered", "missing", "relinked", "truncated", "unanchored", "forged"]
    position: int
    seq: int | None
    message: str


class ChainReport(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    checked: int
    unsealed: int
    head_position: int
    problem: ChainProblem | None = None


async def verify_chain(conn: Connection) -> ChainReport:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        head = await conn.fetchrow(_SELECT_HEAD)
        assert head is not None
        unsealed: int = await conn.fetchval(_COUNT_UNSEALED)
        records = await checkpoint_records(conn)
        expected_pos: int = head["anchor_pos"]
        prev: bytes = head["anchor_hash"]
        checked = 0

        def report(problem: ChainProblem | None) -> ChainReport:
            return ChainReport(
                ok=problem is None,
                checked=checked,
                unsealed=unsealed,
                head_position=head["last_pos"],
                problem=problem,
            )

        if (why := record_problem(records, expected_pos, prev)) is not None:
            return report(
                ChainProblem(kind="unanchored", position=expected_pos, seq=None, message=why)
            )
        by_file = {record.file_name: record for record in records}

        async for row in conn.cursor(_SELECT_SEALED, expected_pos, prefetch=2_000):
            recomputed = row_hash(prev, expected_pos, row)
            if problem := _event_problem(row, expected_pos, prev, recomputed, by_file):
                return report(problem)
            prev = recomputed
            expected_pos += 1
            checked += 1
        if expected_pos - 1 != head["last_pos"] or prev != head["last_hash"]:
            return report(
                ChainProblem(
                    kind="truncated",
                    position=expected_pos,
                    seq=None,
                    message=f"the chain ends at position {expected_pos - 1} but its head "
                    f"records position {head['last_pos']}: events at the end are missing",
                )
            )
        return report(None)


def _event_problem(
    row: Record,
    expected_pos: int,
    prev: bytes,
    recomputed: bytes,
    records: Mapping[str, CheckpointRecord],
) -> ChainProblem | None:
    """What is wrong with the sealed event read where ``expected_pos`` should be, linking to
    ``prev`` and hashing to ``recomputed`` (None: nothing)."""
    pos, seq = row["chain_pos"], row["seq"]
    if pos != expected_pos:
        return ChainProblem(
            kind="missing",
            position=expected_pos,
            seq=None,
            message=f"event at chain position {expected_pos} is missing "
            f"(next present is position {pos}, seq {seq})",
        )
    if row["prev_hash"] != prev:
        return ChainProblem(
            kind="relinked",
            position=pos,
            seq=seq,
            message=f"event seq {seq} at position {pos} does not link to the "
            "event before it (reordered or re-chained)",
        )
    if recomputed != row["hash"]:
        return ChainProblem(
            kind="altered",
            position=pos,
            seq=seq,
            message=f"event seq {seq} at position {pos} was altered: its content "
            "does not match its hash",
        )
    if row["action"] == ARCHIVED and (why := archived_event_problem(seq, row["data"], records)):
        return ChainProblem(
            kind="forged", position=pos, seq=seq, message=f"event seq {seq} at position {pos} {why}"
        )
    return None
