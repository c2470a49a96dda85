"""The one way a command reaches the database: the configured URL or the embedded server,
one connection, closed whatever happens — with the key-encryption key the service uses, so
that a command seals and opens texts under data keys as the service does."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg

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
        try:
            conn = await db.connect(dsn)
        except Exception as exc:
            # A server that is down or unknown, or one that refuses this database, role or
            # password, is a setting for the operator to fix, not a bug: one line naming
            # the cause (never the URL, which may hold a password), no traceback, and 2 as
            # for a configuration error (1 is a verification's "found a problem").
            if not (db.is_database_outage(exc) or isinstance(exc, asyncpg.PostgresError)):
                raise
            cause = " ".join(str(exc).split()) or type(exc).__name__
            print(f"idsvc: cannot connect to the database: {cause}", file=sys.stderr)
            raise SystemExit(2) from None
        try:
            yield conn
        finally:
            await conn.close()
