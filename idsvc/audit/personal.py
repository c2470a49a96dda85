"""Personal values in audit events, sealed under the person's own data key so that erasing
the person (destroying the key) erases them, while the hash chain — computed over the
sealed form — still verifies (crypto-shredding; docs/privacy.md).

Each person's data key (AES-256-GCM) is stored encrypted under the key-encryption key
(``person_data_keys``); the service configures the KEK at start
(:func:`use_key_encryption_key`). A sealed value in an event's data reads
``{"person": "<user id>", "sealed": "<base64url>"}``; :func:`open_sealed` turns it back into
the value for operators, or ``"[erased]"``.
"""

from __future__ import annotations

import base64
import os
import uuid
from datetime import datetime
from typing import Any

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from idsvc.crypto.key_encryption import KeyEncryptionError, KeyEncryptionKey
from idsvc.db import Connection

__all__ = [
    "ERASED",
    "destroy_data_key",
    "open_sealed",
    "seal",
    "sealed_people",
    "use_key_encryption_key",
]

ERASED = "[erased]"
UNREADABLE = "[sealed under another key-encryption key]"
_NONCE = 12
_configured: dict[str, KeyEncryptionKey] = {}

_CREATE = """
INSERT INTO person_data_keys (user_id, wrapped_key, kek_id, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id) DO NOTHING
"""
_KEY = "SELECT wrapped_key FROM person_data_keys WHERE user_id = $1"
_DESTROY = """
INSERT INTO person_data_keys (user_id, wrapped_key, created_at, erased_at)
VALUES ($1, NULL, $2, $2)
ON CONFLICT (user_id) DO UPDATE SET wrapped_key = NULL, erased_at = EXCLUDED.erased_at
"""


def use_key_encryption_key(kek: KeyEncryptionKey) -> None:
    """Set at start (create_app): every person's data key is wrapped under it."""
    _configured["kek"] = kek


def _kek() -> KeyEncryptionKey:
    try:
        return _configured["kek"]
    except KeyError:
        raise RuntimeError("personal data sealing needs the key-encryption key") from None


def _context(user_id: uuid.UUID) -> bytes:
    return b"idsvc person data key\x00" + user_id.bytes


async def _data_key(conn: Connection, user_id: uuid.UUID, now: datetime) -> bytes | None:
    """The person's data key, made on first use; None once they were erased."""
    kek = _kek()
    row = await conn.fetchrow(_KEY, user_id)
    if row is None:  # first use: make one (a concurrent maker may win; read theirs)
        wrapped = kek.encrypt(AESGCM.generate_key(bit_length=256), context=_context(user_id))
        await conn.execute(_CREATE, user_id, wrapped, kek.kek_id, now)
        row = await conn.fetchrow(_KEY, user_id)
    stored = row["wrapped_key"] if row is not None else None
    return None if stored is None else kek.decrypt(stored, context=_context(user_id))


async def seal(conn: Connection, user_id: uuid.UUID, value: Any, *, now: datetime) -> Any:
    """``value`` sealed for an audit event (``"[erased]"`` for an erased person)."""
    key = await _data_key(conn, user_id, now)
    if key is None:
        return ERASED
    nonce = os.urandom(_NONCE)
    sealed = nonce + AESGCM(key).encrypt(nonce, msgspec.json.encode(value), user_id.bytes)
    return {"person": str(user_id), "sealed": base64.urlsafe_b64encode(sealed).decode()}


def sealed_people(data: Any) -> set[str]:
    """The people whose sealed values ``data`` holds (to audit who was read)."""
    if isinstance(data, list):
        return set().union(*(sealed_people(item) for item in data)) if data else set()
    if not isinstance(data, dict):
        return set()
    if set(data) == {"person", "sealed"}:
        return {str(data["person"])}
    return set().union(*(sealed_people(v) for v in data.values())) if data else set()


async def open_sealed(conn: Connection, data: Any) -> Any:
    """``data`` with every sealed value opened (operators' views and exports)."""
    if isinstance(data, list):
        return [await open_sealed(conn, item) for item in data]
    if not isinstance(data, dict):
        return data
    if set(data) == {"person", "sealed"}:
        return await _open(conn, data)
    return {key: await open_sealed(conn, item) for key, item in data.items()}


async def _open(conn: Connection, sealed: dict[str, Any]) -> Any:
    try:
        user_id = uuid.UUID(str(sealed["person"]))
        blob = base64.urlsafe_b64decode(str(sealed["sealed"]))
    except ValueError:
        return ERASED
    stored = await conn.fetchval(_KEY, user_id)
    if stored is None:
        return ERASED
    try:
        key = _kek().decrypt(stored, context=_context(user_id))
    except KeyEncryptionError:
        # Wrapped under another key-encryption key (one not re-wrapped after a rotation):
        # say so, rather than fail the operator's whole page.
        return UNREADABLE
    try:
        plain = AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], user_id.bytes)
    except InvalidTag:
        return ERASED
    return msgspec.json.decode(plain)


async def destroy_data_key(conn: Connection, user_id: uuid.UUID, *, now: datetime) -> None:
    """Erasure: nothing sealed for the person opens again, anywhere, ever."""
    await conn.execute(_DESTROY, user_id, now)
