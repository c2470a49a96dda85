"""Recomputing the chain: proves the trail whole or names the first broken event.

Reads sealed events in chain order through a cursor (constant memory) inside one
repeatable-read snapshot, so the head row and the events agree while the sealer works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import msgspec

from idsvc.audit.chain import row_hash

if TYPE_CHECKING:
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
    kind: Literal["altered", "missing", "relinked", "truncated"]
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

        async for row in conn.cursor(_SELECT_SEALED, expected_pos, prefetch=2_000):
            pos, seq = row["chain_pos"], row["seq"]
            if pos != expected_pos:
                return report(
                    ChainProblem(
                        kind="missing",
                        position=expected_pos,
                        seq=None,
                        message=f"event at chain position {expected_pos} is missing "
                        f"(next present is position {pos}, seq {seq})",
                    )
                )
            if row["prev_hash"] != prev:
                return report(
                    ChainProblem(
                        kind="relinked",
                        position=pos,
                        seq=seq,
                        message=f"event seq {seq} at position {pos} does not link to the "
                        "event before it (reordered or re-chained)",
                    )
                )
            recomputed = row_hash(prev, pos, row)
            if recomputed != row["hash"]:
                return report(
                    ChainProblem(
                        kind="altered",
                        position=pos,
                        seq=seq,
                        message=f"event seq {seq} at position {pos} was altered: its content "
                        "does not match its hash",
                    )
                )
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
