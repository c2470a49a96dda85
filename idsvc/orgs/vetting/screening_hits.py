"""Screening organisations against the newest list, and deciding on the hits.

A hit is kept per (organisation, listed entry), across snapshots: an operator's override
holds when the next import lists the same entry again, while an entry that reappears after
it was cleared opens again. A new hit on an approved organisation suspends it at once
(actor ``system``): access stops first, an operator reviews second.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from idsvc.audit import record_event
from idsvc.audit.personal import for_org, row_opened, rows_opened, seal
from idsvc.db import Connection
from idsvc.errors import NotFound
from idsvc.four_eyes.service import FourEyes
from idsvc.orgs.records import Organisation
from idsvc.orgs.vetting.organisations import set_org_status
from idsvc.screening.errors import HitNotOpen
from idsvc.screening.lists import LoadedList, load_newest_list
from idsvc.screening.service import rescreen_people

__all__ = [
    "Hit",
    "ScreeningOutcome",
    "list_hits",
    "override_hit",
    "rescreen_all",
    "rescreen_if_due",
    "screen_organisation",
]

HitState = Literal["open", "overridden", "cleared"]


class Hit(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    org_id: uuid.UUID
    list_source: str
    screened_name: str
    matched_name: str
    score: float
    state: HitState
    found_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    justification: str | None
    # When an override lapses (the hit opens again at the next screening).
    override_expires_at: datetime | None = None
    # The organisation's country against the listed addresses' countries (ranking only:
    # a hit is never dropped for a different country), and the entry's details.
    country_match: Literal["same", "different", "unknown"] = "unknown"
    listed_countries: list[str] = []
    listed_addresses: str | None = None
    listed_programs: list[str] = []


class ScreeningOutcome(msgspec.Struct, frozen=True, kw_only=True):
    org_id: uuid.UUID
    snapshot_id: uuid.UUID | None
    new_hits: list[uuid.UUID]
    cleared: int
    open_hits: int
    suspended: bool = False


# Inserted, or re-opened when it had been cleared; an open or overridden hit is left as it
# is, and then nothing comes back.
_UPSERT_HIT = """
INSERT INTO screening_hits (id, org_id, snapshot_id, entry_id, entry_key, list_source,
                            screened_name, matched_name, score, state, found_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10)
ON CONFLICT (org_id, entry_key) DO UPDATE
SET state = 'open', snapshot_id = EXCLUDED.snapshot_id, entry_id = EXCLUDED.entry_id,
    screened_name = EXCLUDED.screened_name, matched_name = EXCLUDED.matched_name,
    score = EXCLUDED.score, found_at = EXCLUDED.found_at, decided_at = NULL,
    decided_by = NULL, justification = NULL
WHERE screening_hits.state = 'cleared'
   OR (screening_hits.state = 'overridden' AND screening_hits.override_expires_at <= $10)
RETURNING id
"""
_CLEAR_STALE = """
UPDATE screening_hits SET state = 'cleared', decided_at = $3, decided_by = $4
WHERE org_id = $1 AND state = 'open' AND NOT (entry_key = ANY($2::text[]))
RETURNING id
"""
# Screening and approval both lock the organisation first, so an approval racing an import
# either sees the new hit (409) or is followed by the suspension; never neither.
_LOCK_STATUS = "SELECT status FROM organisations WHERE id = $1 FOR UPDATE"
_COUNT_OPEN = "SELECT count(*) FROM screening_hits WHERE org_id = $1 AND state = 'open'"
# Ranked for the reviewer: a listed address in the organisation's own country first, then
# by score. The entry's secondary fields come along to explain each hit.
_LIST = """
SELECT h.id, h.org_id, h.list_source, h.screened_name, h.matched_name, h.score, h.state,
       h.found_at, h.decided_at, h.decided_by, h.justification, h.override_expires_at,
       CASE WHEN cardinality(e.countries) = 0 THEN 'unknown'
            WHEN o.country = ANY(e.countries) THEN 'same'
            ELSE 'different' END AS country_match,
       e.countries AS listed_countries, e.addresses AS listed_addresses,
       e.programs AS listed_programs
FROM screening_hits h
JOIN screening_entries e ON e.id = h.entry_id
JOIN organisations o ON o.id = h.org_id
WHERE h.org_id = ANY($1::uuid[]) AND ($2::text IS NULL OR h.state = $2)
ORDER BY h.org_id, (CASE WHEN cardinality(e.countries) > 0 AND o.country = ANY(e.countries)
                         THEN 0 ELSE 1 END), h.score DESC, h.found_at, h.id
"""
_OVERRIDE = """
UPDATE screening_hits SET state = 'overridden', decided_at = $3, decided_by = $4,
    justification = $5, override_expires_at = $6
WHERE org_id = $1 AND id = $2 AND state = 'open'
RETURNING id, org_id, list_source, screened_name, matched_name, score, state, found_at,
    decided_at, decided_by, justification, override_expires_at
"""
_HIT_STATE = "SELECT state FROM screening_hits WHERE org_id = $1 AND id = $2 FOR UPDATE"
_RESCREENED = """
SELECT id, legal_name, country, registration_ids, contact_email, status, status_reason,
    programs_requested, programs, auto_join, requested_by, created_at, updated_at
FROM organisations WHERE status <> 'rejected' ORDER BY created_at, id
"""


async def screen_organisation(
    conn: Connection,
    org: Organisation,
    *,
    threshold: float,
    actor: str,
    now: datetime,
    loaded: LoadedList | None = None,
) -> ScreeningOutcome:
    """Screen ``org`` against the newest list (``loaded``, or read now). Without any list,
    nothing is found and nothing changes: the outcome says so with ``snapshot_id`` None."""
    if loaded is None:
        loaded = await load_newest_list(conn)
    if loaded is None:
        open_hits = await conn.fetchval(_COUNT_OPEN, org.id)
        return ScreeningOutcome(
            org_id=org.id, snapshot_id=None, new_hits=[], cleared=0, open_hits=open_hits
        )
    status = await conn.fetchval(_LOCK_STATUS, org.id)
    best: dict[str, tuple[int, float]] = {}
    for position, score in loaded.index.search(org.legal_name, threshold):
        key = loaded.names[position].entry_key
        if key not in best or score > best[key][1]:
            best[key] = (position, score)
    new_hits = []
    for key, (position, score) in best.items():
        listed = loaded.names[position]
        hit_id = await conn.fetchval(
            _UPSERT_HIT,
            uuid.uuid4(),
            org.id,
            loaded.snapshot_id,
            listed.entry_id,
            key,
            listed.source,
            org.legal_name,
            listed.name,
            round(score, 2),
            now,
        )
        if hit_id is not None:
            new_hits.append(hit_id)
    cleared = await conn.fetch(_CLEAR_STALE, org.id, list(best), now, actor)
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="org.screened",
        target=f"org:{org.id}",
        data={
            "snapshot": str(loaded.snapshot_id),
            "new_hits": [str(h) for h in new_hits],
            "cleared": [str(r["id"]) for r in cleared],
        },
    )
    suspended = False
    if new_hits and status == "approved":
        await set_org_status(
            conn,
            org_id=org.id,
            status="suspended",
            # Shown to the organisation's admins: says nothing of screening (the applicant is
            # not tipped off); the hit itself is in the operator-only org.screened event.
            reason="under review by the provider's compliance team",
            actor="system",
            now=now,
            # A suspension: four eyes and list freshness bear on approvals only.
            four_eyes=True,
            rule=FourEyes(),
            list_max_age=None,
        )
        suspended = True
    return ScreeningOutcome(
        org_id=org.id,
        snapshot_id=loaded.snapshot_id,
        new_hits=new_hits,
        cleared=len(cleared),
        open_hits=await conn.fetchval(_COUNT_OPEN, org.id),
        suspended=suspended,
    )


async def rescreen_all(
    conn: Connection, *, threshold: float, now: datetime
) -> list[ScreeningOutcome]:
    """Screen every organisation that is not rejected, and every person with a verified
    name, against the newest list; the organisations' outcomes."""
    loaded = await load_newest_list(conn)
    organisations = await rows_opened(
        conn, Organisation, await conn.fetch(_RESCREENED), texts=("status_reason",)
    )
    outcomes = [
        await screen_organisation(
            conn, org, threshold=threshold, actor="system", now=now, loaded=loaded
        )
        for org in organisations
    ]
    await rescreen_people(conn, threshold=threshold, now=now, loaded=loaded)
    return outcomes


_CLAIM_RUN = """
INSERT INTO scheduled_runs (job, last_run_at) VALUES ('rescreen', $1)
ON CONFLICT (job) DO UPDATE SET last_run_at = EXCLUDED.last_run_at
WHERE scheduled_runs.last_run_at <= $1 - $2::interval
RETURNING job
"""


async def rescreen_if_due(
    conn: Connection, *, interval: timedelta, threshold: float, now: datetime
) -> list[ScreeningOutcome] | None:
    """The daily re-screen (continuous screening): None when another instance, or an
    earlier run, did it within ``interval``. Run inside a transaction: the claimed row
    stays locked until it commits, so two instances never screen at once."""
    if await conn.fetchval(_CLAIM_RUN, now, interval) is None:
        return None
    return await rescreen_all(conn, threshold=threshold, now=now)


async def list_hits(
    conn: Connection, org_ids: list[uuid.UUID], *, state: HitState | None = None
) -> list[Hit]:
    return await rows_opened(
        conn, Hit, await conn.fetch(_LIST, org_ids, state), texts=("justification",)
    )


async def override_hit(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    hit_id: uuid.UUID,
    justification: str,
    actor: str,
    now: datetime,
    validity: timedelta,
) -> Hit:
    """An operator decides an open hit is not the organisation, for ``validity``. A hit of
    another organisation is NotFound, like one that does not exist."""
    state = await conn.fetchval(_HIT_STATE, org_id, hit_id)
    if state is None:
        raise NotFound("no such screening hit for this organisation")
    if state != "open":
        raise HitNotOpen(f"the hit is {state}, not open")
    # The justification may name people (the listed one, the organisation's officers):
    # sealed under the organisation's key in the hit and in the event alike.
    sealed = await seal(conn, for_org(org_id), justification, now=now)
    hit = await row_opened(
        conn,
        Hit,
        await conn.fetchrow(_OVERRIDE, org_id, hit_id, now, actor, sealed, now + validity),
        texts=("justification",),
    )
    assert hit is not None  # locked open above
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="org.screening.overridden",
        target=f"org:{org_id}",
        data={
            "hit": str(hit_id),
            "justification": sealed,
            "expires_at": (now + validity).isoformat(),
        },
    )
    return hit
