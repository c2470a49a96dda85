"""Retention: export-control records are kept for ``[retention] period`` (default five
years, 15 CFR 762.6) after the person's last activity; then the person is erased by the
daily job, the same crypto-shredding erasure an operator runs (erasure.service).

Last activity is the latest of: the account's creation, a sign-in with any of its
identities, a use of its refresh-token grants. Token requests made with a browser session
began with a sign-in, so they are covered by it.

The last admin of an organisation is not erased (the last-admin rule), nor a person whose
records are under legal hold (idsvc.holds: a known investigation, an open screening hit, a
pending determination): the job skips them with a warning in the log, every run, until the
organisation has another admin or the hold is lifted.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from idsvc.db import Connection
from idsvc.erasure.service import LastAdmin, UnderLegalHold, erase_person

__all__ = ["RETENTION_REASON", "erase_past_retention"]

_log = logging.getLogger(__name__)

RETENTION_REASON = "retention period ended (15 CFR 762.6)"
# $4: the people this run skipped (the last admin of an organisation), so that they cannot
# fill every batch and hold back everyone after them.
_PAST = """
SELECT u.id FROM users u
WHERE u.status <> 'erased' AND u.id <> ALL($4::uuid[])
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
    erased: list[uuid.UUID] = []
    skipped: list[uuid.UUID] = []
    while len(erased) < batch:
        rows = await conn.fetch(_PAST, now, period, batch - len(erased), skipped)
        if not rows:
            break
        for row in rows:
            try:
                async with conn.transaction():  # a savepoint: a refusal undoes only its own
                    await erase_person(
                        conn, user_id=row["id"], reason=RETENTION_REASON, actor="system", now=now
                    )
            except (LastAdmin, UnderLegalHold) as exc:
                _log.warning(
                    "past retention but not erased: %s", exc.detail, extra={"user": str(row["id"])}
                )
                skipped.append(row["id"])
                continue
            erased.append(row["id"])
    return erased
