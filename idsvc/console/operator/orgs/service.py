"""What the operator's organisation pages read: the queue with its open screening hits and
the screening list's age, and one organisation with its hits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from idsvc.db import Connection
from idsvc.orgs.records import Organisation
from idsvc.orgs.vetting.organisations import ORG_TRANSITIONS, get_organisation, list_organisations
from idsvc.orgs.vetting.screening_hits import Hit, list_hits
from idsvc.screening.freshness import newest_list

__all__ = ["OrgQueue", "OrgReview", "org_queue", "org_review"]


class OrgQueue(NamedTuple):
    orgs: list[Organisation]
    open_hits: dict[uuid.UUID, int]
    # None before any list was imported.
    screening_list: dict[str, Any] | None


async def org_queue(
    conn: Connection, status: str | None, *, now: datetime, list_max_age: timedelta
) -> OrgQueue:
    """Organisations in ``status`` (None: all), with their open hits counted."""
    orgs = await list_organisations(conn, status=status, limit=200)  # type: ignore[arg-type]
    hits = await list_hits(conn, [o.id for o in orgs], state="open")
    newest = await newest_list(conn)
    open_hits = {o.id: sum(1 for h in hits if h.org_id == o.id) for o in orgs}
    screening_list = (
        None
        if newest is None
        else {
            "imported": newest.imported_at.strftime("%Y-%m-%d %H:%M UTC"),
            "days": newest.age(now).days,
            "entries": newest.entries,
            "stale": newest.age(now) > list_max_age,
        }
    )
    return OrgQueue(orgs, open_hits, screening_list)


class OrgReview(NamedTuple):
    org: Organisation
    hits: list[Hit]
    next_states: list[str]


async def org_review(conn: Connection, org_id: uuid.UUID) -> OrgReview:
    org = await get_organisation(conn, org_id)
    hits = await list_hits(conn, [org_id])
    return OrgReview(org, hits, sorted(ORG_TRANSITIONS[org.status]))
