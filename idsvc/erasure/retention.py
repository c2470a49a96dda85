"""Retention: export-control records are kept for ``[retention] period`` (default five
years, 15 CFR 762.6) after the person's last activity; then the person is erased by the
daily job, the same crypto-shredding erasure an operator runs (erasure.service).

Last activity is the latest of: the account's creation, a sign-in with any of its
identities, a use of its refresh-token grants. Token requests made with a browser session
began with a sign-in, so they are covered by it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from idsvc.db import Connection
from idsvc.erasure.service import erase_person

__all__ = ["RETENTION_REASON", "erase_past_retention"]

RETENTION_REASON = "retention period ended (15 CFR 762.6)"
_PAST = """
SELECT u.id FROM users u
WHERE u.status <> 'erased'
  AND greatest(
        u.created_at,
        (SELECT max(i.last_login_at) FROM identities i WHERE i.user_id = u.id),
        (SELECT max(g.last_used_at) FROM oauth_grants g WHERE g.user_id = u.id)
      ) < $1::timestamptz - $2::interval
ORDER BY u.id
LIMIT $3
FOR UPDATE OF u SKIP LOCKED
"""


async def erase_past_retention(
    conn: Connection, *, now: datetime, period: timedelta, batch: int = 200
) -> list[uuid.UUID]:
    """Erase up to ``batch`` people whose records are past retention; their ids."""
    erased = []
    for row in await conn.fetch(_PAST, now, period, batch):
        await erase_person(
            conn, user_id=row["id"], reason=RETENTION_REASON, actor="system", now=now
        )
        erased.append(row["id"])
    return erased
