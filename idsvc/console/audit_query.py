"""Reading the audit trail for the console: filtered, newest first, in pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from idsvc.audit.events import AuditEvent
from idsvc.db import Connection, rows_to

__all__ = ["AuditFilter", "find_events"]


class AuditFilter(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Annotated[str, msgspec.Meta(max_length=300)] = ""
    action: Annotated[str, msgspec.Meta(max_length=100)] = ""
    target: Annotated[str, msgspec.Meta(max_length=300)] = ""
    since: datetime | None = None
    until: datetime | None = None
    # Keyset paging: events with a smaller sequence number than this.
    before: Annotated[int, msgspec.Meta(ge=1)] | None = None


# Prefix matches (`user:` finds every user), so operators can narrow step by step; the
# (actor|target, occurred_at) indexes serve them.
_FIND = """
SELECT seq, occurred_at, actor, action, target, data, chain_pos, prev_hash, hash
FROM audit_events
WHERE ($1 = '' OR actor LIKE $1 || '%')
  AND ($2 = '' OR action LIKE $2 || '%')
  AND ($3 = '' OR target LIKE $3 || '%')
  AND ($4::timestamptz IS NULL OR occurred_at >= $4)
  AND ($5::timestamptz IS NULL OR occurred_at < $5)
  AND ($6::bigint IS NULL OR seq < $6)
  AND NOT (action LIKE ANY($8::text[]))
ORDER BY seq DESC
LIMIT $7
"""


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def find_events(
    conn: Connection,
    query: AuditFilter,
    *,
    limit: int,
    hidden_actions: tuple[str, ...] = (),
) -> list[AuditEvent]:
    """``hidden_actions``: action prefixes this reader may not see (they are left out, not
    merely blanked, so their count cannot be read from gaps either)."""
    rows = await conn.fetch(
        _FIND,
        _like_literal(query.actor),
        _like_literal(query.action),
        _like_literal(query.target),
        query.since,
        query.until,
        query.before,
        limit,
        [f"{_like_literal(prefix)}%" for prefix in hidden_actions],
    )
    return rows_to(AuditEvent, rows)
