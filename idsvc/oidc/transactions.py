"""Pending sign-ins: one row per authorization request, found by the hash of ``state``.

Each is bound to the browser that started it: the hash of a random value that only that
browser holds (in a short-lived cookie, :mod:`idsvc.oidc.signin_cookie`) is stored with it,
and the callback completes the sign-in only when the browser presents that value. A
callback URL carried to another browser (login CSRF: the attacker's sign-in completed in
the victim's browser; or a signed-in person's link handed to someone else to complete) is
refused as ``state_not_bound`` and ends the sign-in: a response that left its browser once
is never honoured, not even back in the browser that started it.

Consumed in its own committed transaction before anything else happens, so a callback
replayed after a failure finds the state already used.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta

import msgspec

from idsvc.db import Connection, row_to

__all__ = [
    "LoginTransaction",
    "NotBound",
    "binding_hash",
    "consume_transaction",
    "create_transaction",
    "purge_transactions",
]

TRANSACTION_LIFETIME = timedelta(minutes=10)

_INSERT = """
INSERT INTO login_transactions (state_hash, provider, nonce, code_verifier, link_user_id,
                                return_to, created_at, expires_at, browser_binding_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
_CONSUME = """
UPDATE login_transactions SET used_at = $3
WHERE state_hash = $1 AND provider = $2 AND used_at IS NULL AND expires_at > $3
RETURNING provider, nonce, code_verifier, link_user_id, return_to, browser_binding_hash
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


def binding_hash(browser_binding: str) -> bytes:
    """What is stored of the browser's binding value (the value itself never is)."""
    return hashlib.sha256(b"browser-binding\x00" + browser_binding.encode()).digest()


def _plausible(value: str | None) -> bool:
    return bool(value) and len(value or "") <= 128


async def create_transaction(
    conn: Connection,
    *,
    state: str,
    transaction: LoginTransaction,
    browser_binding: str,
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
        binding_hash(browser_binding),
    )


class NotBound(Exception):
    """The state was live, but this browser did not start the sign-in (now ended)."""


async def consume_transaction(
    conn: Connection, *, state: str, provider: str, browser_binding: str | None, now: datetime
) -> LoginTransaction | None:
    """The transaction, marked used; None when the state is unknown, used or expired.
    Raises NotBound (the transaction used up all the same) when this browser did not
    start it."""
    if not _plausible(state):
        return None
    row = await conn.fetchrow(_CONSUME, _hash(state), provider, now)
    if row is None:
        return None
    stored = row["browser_binding_hash"]
    presented = (
        binding_hash(browser_binding) if browser_binding and _plausible(browser_binding) else b""
    )
    if stored is None or not hmac.compare_digest(stored, presented):
        raise NotBound("the sign-in was started in another browser")
    return row_to(LoginTransaction, row)


async def purge_transactions(conn: Connection, *, now: datetime) -> None:
    await conn.execute(_PURGE, now)
