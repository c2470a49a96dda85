"""Long-lived service secrets (e.g. the pairwise-subject key), encrypted under the KEK.

Created once by whichever instance asks first (``ON CONFLICT DO NOTHING`` then a re-read),
so every instance uses the same value without configuration.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.db import Connection

__all__ = ["PAIRWISE_SUBJECT_KEY", "service_secret"]

PAIRWISE_SUBJECT_KEY = "pairwise_subject_key"

_INSERT = """
INSERT INTO service_secrets (name, value_enc, kek_id, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (name) DO NOTHING
"""
_SELECT = "SELECT value_enc FROM service_secrets WHERE name = $1"


def _context(name: str) -> bytes:
    return f"service-secret\x00{name}".encode()


async def service_secret(
    conn: Connection, name: str, *, kek: KeyEncryptionKey, now: datetime
) -> bytes:
    blob = await conn.fetchval(_SELECT, name)
    if blob is None:
        fresh = secrets.token_bytes(32)
        await conn.execute(
            _INSERT, name, kek.encrypt(fresh, context=_context(name)), kek.kek_id, now
        )
        blob = await conn.fetchval(_SELECT, name)
    value: bytes = kek.decrypt(blob, context=_context(name))
    return value
