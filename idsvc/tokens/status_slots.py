"""Giving every issued token a slot in a status list, in the issuing transaction.

Indices are drawn at random (``secrets``) within the open list, so a token's index says
nothing about when it was issued or who else was issued one; concurrent issuers never
wait on each other because no counter row is updated: a slot is claimed by inserting it,
and a taken slot just means another draw. When draws keep hitting taken slots the list is
marked full and a new one is opened. No step waits on a lock another issuer could hold
while waiting on us.

The allocator remembers the open list only once it has seen it committed: a list opened
inside an issuing transaction is invisible to every other transaction until that one
commits, and gone if it rolls back, so sharing its id gave concurrent issuers slots in a
list that might never exist (and a rolled-back one poisoned the instance). The service
opens a list in its own committed step at start (``ensure_open_list``), so issuing never
has to. Slots do not reference their list by a foreign key (migration 0024): that made
every issuer lock the one open list row.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

import msgspec

from idsvc.db import Connection, Pool

__all__ = ["CLAIM_SLOT", "ClaimStatement", "StatusAllocator", "StatusSlot"]

_CANDIDATES = 8
_ROUNDS = 2


class StatusSlot(msgspec.Struct, frozen=True, kw_only=True):
    list_id: int
    idx: int


_OPEN_LIST = """
SELECT id, size FROM status_lists WHERE full_at IS NULL AND id <> $1 ORDER BY id DESC LIMIT 1
"""
_NEW_LIST = "INSERT INTO status_lists (size, created_at) VALUES ($1, $2) RETURNING id, size"
# SKIP LOCKED: never wait on another issuer marking the same list (it is then doing this
# very thing), so slot claims and list rows cannot form a lock cycle.
_MARK_FULL = """
UPDATE status_lists SET full_at = $2
WHERE id = (SELECT id FROM status_lists WHERE id = $1 AND full_at IS NULL
            FOR UPDATE SKIP LOCKED)
"""
# Several random candidates in one round trip; the first free one is claimed. A race with
# another issuer for the same slot ends in ON CONFLICT DO NOTHING and another round.
# Parameters: $1 the list, $2 the candidate indices, $3-$8 the token's user, organisation,
# grant, key id, jti and expiry. Issuance runs it as the first part of a larger statement.
CLAIM_SLOT = """
INSERT INTO token_statuses (list_id, idx, user_id, org_id, grant_id, kid, jti, expires_at)
SELECT $1, candidate, $3, $4, $5, $6, $7, $8
FROM unnest($2::integer[]) AS candidate
WHERE NOT EXISTS (SELECT 1 FROM token_statuses t WHERE t.list_id = $1 AND t.idx = candidate)
LIMIT 1
ON CONFLICT DO NOTHING
RETURNING idx
"""

# Runs a statement that claims one of the candidates in a list (and may write more in the
# same statement); returns the claimed index, or None when every candidate was taken.
ClaimStatement = Callable[[int, list[int]], Awaitable[int | None]]


def _draw(size: int) -> list[int]:
    """Random candidate indices from one read of the OS's randomness (one syscall, where
    ``randbelow`` per index made eight). The modulo bias, below 2^-8 for lists up to 2^24
    slots, does not make one slot guessable."""
    raw = secrets.token_bytes(4 * _CANDIDATES)
    return [int.from_bytes(raw[i : i + 4], "big") % size for i in range(0, len(raw), 4)]


class StatusAllocator:
    """One per instance; remembers the open list so issuing costs one statement."""

    def __init__(self, list_size: int) -> None:
        self.list_size = list_size
        self._open: tuple[int, int] | None = None

    async def ensure_open_list(self, pool: Pool, now: datetime) -> None:
        """Open a list in a committed step of its own unless one is open (at start)."""
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(_OPEN_LIST, 0)
            if row is None:
                row = await conn.fetchrow(_NEW_LIST, self.list_size, now)
        assert row is not None
        self._open = (row["id"], row["size"])

    async def _open_list(
        self, conn: Connection, now: datetime, *, after_full: int | None
    ) -> tuple[int, int]:
        if after_full is None and self._open is not None:
            return self._open
        row = await conn.fetchrow(_OPEN_LIST, after_full or 0)
        if row is not None:
            # Read committed: every transaction can see this list. Safe to share.
            self._open = (row["id"], row["size"])
            return self._open
        # None open: open one for this transaction only. Concurrent issuers may each open
        # one (a spare list costs a row); none is remembered before it is committed.
        row = await conn.fetchrow(_NEW_LIST, self.list_size, now)
        assert row is not None
        return (row["id"], row["size"])

    async def allocate(
        self,
        conn: Connection,
        *,
        user_id: uuid.UUID,
        org_id: uuid.UUID | None,
        grant_id: uuid.UUID | None,
        kid: str,
        jti: str,
        expires_at: datetime,
        now: datetime,
    ) -> StatusSlot:
        async def claim(list_id: int, candidates: list[int]) -> int | None:
            idx: int | None = await conn.fetchval(
                CLAIM_SLOT, list_id, candidates, user_id, org_id, grant_id, kid, jti, expires_at
            )
            return idx

        return await self.claim(conn, now=now, statement=claim)

    async def claim(
        self, conn: Connection, *, now: datetime, statement: ClaimStatement
    ) -> StatusSlot:
        """A slot claimed by ``statement`` (see CLAIM_SLOT), drawing again when every
        candidate was taken and opening the next list when draws keep failing."""
        full: int | None = None
        for _attempt in range(3):
            list_id, size = await self._open_list(conn, now, after_full=full)
            for _round in range(_ROUNDS):
                idx = await statement(list_id, _draw(size))
                if idx is not None:
                    return StatusSlot(list_id=list_id, idx=idx)
            # Every draw was taken: the list is full enough; open the next one.
            await conn.execute(_MARK_FULL, list_id, now)
            full = list_id
        raise RuntimeError("no free status list slot after opening a new list")
