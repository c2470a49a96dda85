"""Values and free texts that may name a person, sealed under a data key of whom they are
about, so that destroying the key (erasure) erases them wherever they were written: in
audit events, whose hash chain covers the sealed form and still verifies, and in table
columns alike (crypto-shredding; docs/privacy.md).

Three kinds of owner hold a data key (AES-256-GCM), each stored encrypted under the
key-encryption key (configured at start, :func:`use_key_encryption_key`):

- a **person** (``person_data_keys``): attested values, determinations, an attestation's
  revocation reason, a screening override's justification, an operator grant's reason;
- a **membership** (``membership_data_keys``): the reason an admin gave for a member's
  status. A membership exists before anyone claims it (an invitation, a CSV row, a SCIM
  user), so it cannot wait for a person's key; erasing a person destroys the keys of every
  membership they held or that was enrolled by their address (``erasure.service``);
- an **organisation** (``org_data_keys``): an operator's status or programs reason, a
  screening override's justification. Nothing erases an organisation yet: its texts are
  sealed so that a future erasure can shred them by destroying this one key.

A sealed value reads ``{"person"|"membership"|"org": "<id>", "sealed": "<base64url>"}``
wherever it is stored. Text columns written before sealing hold a JSON string, which
:func:`open_text` returns as it is. :func:`open_sealed` turns sealed values back into what
was sealed for those allowed to read them, or ``"[erased]"`` once the key is gone.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypeVar

import asyncpg
import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from idsvc.crypto.key_encryption import KeyEncryptionError, KeyEncryptionKey
from idsvc.db import Connection

__all__ = [
    "ERASED",
    "WITHHELD",
    "Owner",
    "destroy_data_key",
    "for_membership",
    "for_org",
    "for_person",
    "open_sealed",
    "open_text",
    "row_opened",
    "rows_opened",
    "seal",
    "seal_text",
    "sealed_owners",
    "sealed_people",
    "use_key_encryption_key",
]

ERASED = "[erased]"
# A sealed value the reader may not open (an org admin's view holds only their own).
WITHHELD = "[withheld]"
UNREADABLE = "[sealed under another key-encryption key]"
_NONCE = 12
_configured: dict[str, KeyEncryptionKey] = {}
T = TypeVar("T")

OwnerKind = Literal["person", "membership", "org"]


class Owner(NamedTuple):
    """Whose data key seals a value: the key is named in the sealed form by ``kind``."""

    kind: OwnerKind
    id: uuid.UUID


def for_person(user_id: uuid.UUID) -> Owner:
    return Owner("person", user_id)


def for_membership(membership_id: uuid.UUID) -> Owner:
    return Owner("membership", membership_id)


def for_org(org_id: uuid.UUID) -> Owner:
    return Owner("org", org_id)


_PERSON_CREATE = """
INSERT INTO person_data_keys (user_id, wrapped_key, kek_id, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id) DO NOTHING
"""
_PERSON_KEY = "SELECT wrapped_key FROM person_data_keys WHERE user_id = $1"
_PERSON_DESTROY = """
INSERT INTO person_data_keys (user_id, wrapped_key, created_at, erased_at)
VALUES ($1, NULL, $2, $2)
ON CONFLICT (user_id) DO UPDATE SET wrapped_key = NULL, erased_at = EXCLUDED.erased_at
"""
_MEMBERSHIP_CREATE = """
INSERT INTO membership_data_keys (membership_id, wrapped_key, kek_id, created_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (membership_id) DO NOTHING
"""
_MEMBERSHIP_KEY = "SELECT wrapped_key FROM membership_data_keys WHERE membership_id = $1"
_ORG_CREATE = """
INSERT INTO org_data_keys (org_id, wrapped_key, kek_id, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id) DO NOTHING
"""
_ORG_KEY = "SELECT wrapped_key FROM org_data_keys WHERE org_id = $1"


class _KeyTable(NamedTuple):
    create: str
    read: str
    # Binds each wrapped key to its owner: a wrapped key copied to another row (or another
    # kind of owner with the same id) does not unwrap.
    context: bytes


# The person's context is the one 0022 wrapped every person's key under: it stays.
_TABLES: dict[OwnerKind, _KeyTable] = {
    "person": _KeyTable(_PERSON_CREATE, _PERSON_KEY, b"idsvc person data key\x00"),
    "membership": _KeyTable(_MEMBERSHIP_CREATE, _MEMBERSHIP_KEY, b"idsvc membership data key\x00"),
    "org": _KeyTable(_ORG_CREATE, _ORG_KEY, b"idsvc organisation data key\x00"),
}


def use_key_encryption_key(kek: KeyEncryptionKey) -> None:
    """Set at start (create_app): every data key is wrapped under it."""
    _configured["kek"] = kek


def _kek() -> KeyEncryptionKey:
    try:
        return _configured["kek"]
    except KeyError:
        raise RuntimeError(
            "sealing needs the key-encryption key (IDSVC_KEY_ENCRYPTION_KEY or _FILE)"
        ) from None


async def _data_key(conn: Connection, owner: Owner, now: datetime) -> bytes | None:
    """The owner's data key, made on first use; None once it was destroyed."""
    kek, table = _kek(), _TABLES[owner.kind]
    context = table.context + owner.id.bytes
    row = await conn.fetchrow(table.read, owner.id)
    if row is None:  # first use: make one (a concurrent maker may win; read theirs)
        wrapped = kek.encrypt(AESGCM.generate_key(bit_length=256), context=context)
        await conn.execute(table.create, owner.id, wrapped, kek.kek_id, now)
        row = await conn.fetchrow(table.read, owner.id)
    stored = row["wrapped_key"] if row is not None else None
    return None if stored is None else kek.decrypt(stored, context=context)


async def seal(conn: Connection, owner: Owner, value: Any, *, now: datetime) -> Any:
    """``value`` sealed under ``owner``'s data key, for an event or a jsonb column
    (``"[erased]"`` once the key was destroyed: there is nobody left to seal it for)."""
    key = await _data_key(conn, owner, now)
    if key is None:
        return ERASED
    nonce = os.urandom(_NONCE)
    sealed = nonce + AESGCM(key).encrypt(nonce, msgspec.json.encode(value), owner.id.bytes)
    return {owner.kind: str(owner.id), "sealed": base64.urlsafe_b64encode(sealed).decode()}


async def seal_text(
    conn: Connection, owner: Owner, text: str | None, *, now: datetime
) -> Any | None:
    """A free text sealed (None, "no text given", stays None: it names nobody)."""
    return None if text is None else await seal(conn, owner, text, now=now)


def _owner_of(data: dict[Any, Any]) -> Owner | None:
    """The owner a sealed value names, or None if ``data`` is not a sealed value."""
    if len(data) != 2 or "sealed" not in data:
        return None
    for kind in _TABLES:
        if kind in data:
            try:
                return Owner(kind, uuid.UUID(str(data[kind])))
            except ValueError:
                return None
    return None


def sealed_owners(data: Any) -> set[Owner]:
    """Whose sealed values ``data`` holds."""
    if isinstance(data, list):
        return set().union(*(sealed_owners(item) for item in data)) if data else set()
    if not isinstance(data, dict):
        return set()
    if (owner := _owner_of(data)) is not None:
        return {owner}
    return set().union(*(sealed_owners(v) for v in data.values())) if data else set()


def sealed_people(data: Any) -> set[str]:
    """The people whose sealed values ``data`` holds (to audit who was read)."""
    return {str(owner.id) for owner in sealed_owners(data) if owner.kind == "person"}


async def open_sealed(conn: Connection, data: Any, *, only: Collection[Owner] | None = None) -> Any:
    """``data`` with every sealed value opened (operators' views and exports). With
    ``only``, values sealed for any other owner read ``"[withheld]"``."""
    if isinstance(data, list):
        return [await open_sealed(conn, item, only=only) for item in data]
    if not isinstance(data, dict):
        return data
    if (owner := _owner_of(data)) is not None:
        if only is not None and owner not in only:
            return WITHHELD
        return await _open(conn, owner, data)
    return {key: await open_sealed(conn, item, only=only) for key, item in data.items()}


async def _open(conn: Connection, owner: Owner, sealed: dict[str, Any]) -> Any:
    table = _TABLES[owner.kind]
    try:
        blob = base64.urlsafe_b64decode(str(sealed["sealed"]))
    except ValueError:
        return ERASED
    stored = await conn.fetchval(table.read, owner.id)
    if stored is None:
        return ERASED
    try:
        key = _kek().decrypt(stored, context=table.context + owner.id.bytes)
    except KeyEncryptionError:
        # Wrapped under another key-encryption key (one not re-wrapped after a rotation):
        # say so, rather than fail the operator's whole page.
        return UNREADABLE
    try:
        plain = AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], owner.id.bytes)
    except InvalidTag:
        return ERASED
    return msgspec.json.decode(plain)


async def open_text(conn: Connection, stored: Any) -> str | None:
    """A sealed text column as its readers see it: opened (``"[erased]"`` once its key is
    gone), or the JSON string a text written before sealing was stored as."""
    if stored is None:
        return None
    value = await open_sealed(conn, stored)
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()


async def _opened_values(
    conn: Connection, row: asyncpg.Record, texts: tuple[str, ...]
) -> dict[str, Any]:
    values = dict(row.items())
    for column in texts:
        values[column] = await open_text(conn, values[column])
    return values


async def row_opened(
    conn: Connection, struct_type: type[T], row: asyncpg.Record | None, *, texts: tuple[str, ...]
) -> T | None:
    """One record as a typed struct (None for no record), its sealed text columns
    ``texts`` opened: what :func:`idsvc.db.row_to` is for records without them."""
    if row is None:
        return None
    return msgspec.convert(await _opened_values(conn, row, texts), struct_type)


async def rows_opened(
    conn: Connection,
    struct_type: type[T],
    rows: Iterable[asyncpg.Record],
    *,
    texts: tuple[str, ...],
) -> list[T]:
    return [msgspec.convert(await _opened_values(conn, r, texts), struct_type) for r in rows]


async def destroy_data_key(conn: Connection, user_id: uuid.UUID, *, now: datetime) -> None:
    """Erasure: nothing sealed for the person opens again, anywhere, ever."""
    await conn.execute(_PERSON_DESTROY, user_id, now)
