"""Pending sign-ins: one row per authorization request, found by the hash of ``state``.

Consumed in its own committed transaction before anything else happens, so a callback
replayed after a failure finds the state already used.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

import msgspec

from idsvc.db import Connection, row_to

__all__ = ["LoginTransaction", "consume_transaction", "create_transaction", "purge_transactions"]

TRANSACTION_LIFETIME = timedelta(minutes=10)

_INSERT = """
INSERT INTO login_transactions (state_hash, provider, nonce, code_verifier, link_user_id,
                                return_to, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
_CONSUME = """
UPDATE login_transactions SET used_at = $3
WHERE state_hash = $1 AND provider = $2 AND used_at IS NULL AND expires_at > $3
RETURNING provider, nonce, code_verifier, link_user_id, return_to
"""
_PURGE = "DELETE FROM login_transactions WHERE expires_at < $1::timestamptz - interval '1 day'"


class LoginTransaction(msgspec.Struct, frozen=True, kw_only=True):
    provider: str
    nonce: str
    code_verifier: str
    link_user_id: uuid.UUID | None
    return_to: str


def _hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()


async def create_transaction(
    conn: Connection,
    *,
    state: str,
    transaction: LoginTransaction,
    now: datetime,
) -> None:
    await conn.execute(
        _INSERT,
        _hash(state),
        transaction.provider,
        transaction.nonce,
        transaction.code_verifier,
        transaction.link_user_id,
        transaction.return_to,
        now,
        now + TRANSACTION_LIFETIME,
    )


async def consume_transaction(
    conn: Connection, *, state: str, provider: str, now: datetime
) -> LoginTransaction | None:
    if not state or len(state) > 128:
        return None
    row = await conn.fetchrow(_CONSUME, _hash(state), provider, now)
    return row_to(LoginTransaction, row)


async def purge_transactions(conn: Connection, *, now: datetime) -> None:
    await conn.execute(_PURGE, now)
