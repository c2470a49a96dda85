"""The one way a command reaches the database: the configured URL or the embedded server,
one connection, closed whatever happens — with the key-encryption key the service uses, so
that a command seals and opens texts under data keys as the service does."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from idsvc import db
from idsvc.audit.personal import use_key_encryption_key
from idsvc.crypto.key_encryption import KeyEncryptionError, KeyEncryptionKey
from idsvc.db.locate import database_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from idsvc.settings import Settings

__all__ = ["connected"]


@asynccontextmanager
async def connected(settings: Settings) -> AsyncIterator[db.Connection]:
    if settings.secrets.key_encryption_key is not None:
        # A command may seal (an operator grant's reason, a CSV import's member reasons, a
        # re-screening's suspension) or open (the organisations it re-screens) texts under
        # data keys; without the key, those stop with an error naming the missing setting.
        try:
            kek = KeyEncryptionKey.from_text(settings.secrets.key_encryption_key)
        except KeyEncryptionError as exc:
            print(f"idsvc: configuration error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        use_key_encryption_key(kek)
    async with database_url(settings) as dsn:
        conn = await db.connect(dsn)
        try:
            yield conn
        finally:
            await conn.close()
