"""Screening people: the name (and birth date) an identity-proofing provider verified,
against the listed individuals.

A person is screened when a sign-in brings a name, at every list import and in the daily
re-screen. Every name ever verified for the person is kept (one row per provider and name,
never overwritten) and screened every time: a later sign-in with a shorter name must not
make a hit disappear. A hit is kept per (person, listed entry) like an organisation's; an
open hit holds the person's eligibility (the decision's ``screening_review``: the person
reads "under review", never the list or the entry) and invalidates their live tokens. It
ends only by a decision: an operator's override with a justification (which lapses like an
organisation's), or its entry leaving the list. Each name remembers the snapshot it was
last screened against, so the decision can refuse anyone not screened against the current
list (``screening_unavailable``). The birth date never decides a hit; it ranks and
explains it (``birthdate_match``).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from typing import Literal

import msgspec
from asyncpg import Record

from idsvc.audit import record_event
from idsvc.audit.personal import for_person, row_opened, rows_opened, seal
from idsvc.db import Connection
from idsvc.errors import NotFound
from idsvc.four_eyes.service import FourEyes, Proposed, propose_or_approve
from idsvc.screening.errors import HitNotOpen
from idsvc.screening.lists import LoadedList, cached_newest_list
from idsvc.tokens.revocation import revoke_user_tokens

__all__ = [
    "PersonHit",
    "PersonOutcome",
    "birthdate_match",
    "hits_of_person",
    "list_person_hits",
    "override_person_hit",
    "remember_person",
    "rescreen_people",
    "screen_person",
]

BirthdateMatch = Literal["same", "same_year", "different", "unknown"]
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PersonHit(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    user_id: uuid.UUID
    list_source: str
    screened_name: str
    matched_name: str
    score: float
    birthdate_match: BirthdateMatch
    state: Literal["open", "overridden", "cleared"]
    found_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    justification: str | None
    override_expires_at: datetime | None


class PersonOutcome(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    new_hits: list[uuid.UUID]
    cleared: int


_REMEMBER = """
INSERT INTO screened_people (user_id, provider, name, birthdate, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id, provider, name) DO UPDATE
SET birthdate = coalesce(EXCLUDED.birthdate, screened_people.birthdate),
    updated_at = EXCLUDED.updated_at
"""
_SCREENED_AGAINST = """
UPDATE screened_people SET screened_snapshot = $2, screened_at = $3 WHERE user_id = $1
"""
_NAMES_OF = """
SELECT name, birthdate FROM screened_people WHERE user_id = $1 ORDER BY provider, name
"""
_SUBJECTS = "SELECT DISTINCT user_id FROM screened_people ORDER BY user_id"
_UPSERT_HIT = """
INSERT INTO person_screening_hits (id, user_id, snapshot_id, entry_id, entry_key, list_source,
                                   screened_name, matched_name, score, birthdate_match, state,
                                   found_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11)
ON CONFLICT (user_id, entry_key) DO UPDATE
SET state = 'open', snapshot_id = EXCLUDED.snapshot_id, entry_id = EXCLUDED.entry_id,
    screened_name = EXCLUDED.screened_name, matched_name = EXCLUDED.matched_name,
    score = EXCLUDED.score, birthdate_match = EXCLUDED.birthdate_match,
    found_at = EXCLUDED.found_at, decided_at = NULL, decided_by = NULL, justification = NULL,
    override_expires_at = NULL
WHERE person_screening_hits.state = 'cleared'
   OR (person_screening_hits.state = 'overridden'
       AND person_screening_hits.override_expires_at <= $11)
RETURNING id
"""
# A hit clears without an operator only when its entry has left the list ($2: every entry
# of the newest list). Not because no name matches any more: names are never dropped, but
# matching or the threshold may change, and a hold must end by a decision.
_CLEAR_DELISTED = """
UPDATE person_screening_hits SET state = 'cleared', decided_at = $3, decided_by = 'system'
WHERE user_id = $1 AND state = 'open' AND NOT (entry_key = ANY($2::text[]))
RETURNING id
"""
_OF_PERSON = """
SELECT id, user_id, list_source, screened_name, matched_name, score, birthdate_match,
    state, found_at, decided_at, decided_by, justification, override_expires_at
FROM person_screening_hits WHERE user_id = $1
ORDER BY (state = 'open') DESC, score DESC, found_at, id
"""
_IS_SCREENED = "SELECT EXISTS (SELECT 1 FROM screened_people WHERE user_id = $1)"
_LIST = """
SELECT id, user_id, list_source, screened_name, matched_name, score, birthdate_match,
    state, found_at, decided_at, decided_by, justification, override_expires_at
FROM person_screening_hits
WHERE ($1::text IS NULL OR state = $1)
ORDER BY found_at, id
LIMIT 500
"""
_OVERRIDE = """
UPDATE person_screening_hits
SET state = 'overridden', decided_at = $3, decided_by = $4, justification = $5,
    override_expires_at = $6
WHERE user_id = $1 AND id = $2 AND state = 'open'
RETURNING id, user_id, list_source, screened_name, matched_name, score, birthdate_match,
    state, found_at, decided_at, decided_by, justification, override_expires_at
"""
_HIT_STATE = """
SELECT state FROM person_screening_hits WHERE user_id = $1 AND id = $2 FOR UPDATE
"""


def birthdate_match(verified: date | None, listed: tuple[str, ...]) -> BirthdateMatch:
    """How the verified birth date compares with the entry's dates of birth. Lists write
    dates in many forms ("1961-05-07", "07 May 1961", "circa 1961"): the ISO date and the
    year are compared, nothing else is guessed."""
    if verified is None or not listed:
        return "unknown"
    if any(verified.isoformat() in text for text in listed):
        return "same"
    years = {int(year) for text in listed for year in _YEAR.findall(text)}
    if not years:
        return "unknown"
    if verified.year not in years:
        return "different"
    full_dates = [text for text in listed if _ISO_DATE.fullmatch(text.strip())]
    # Every listed date is a full date and none is this one: another person's birthday.
    return "different" if len(full_dates) == len(listed) else "same_year"


async def remember_person(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    name: str,
    birthdate: str | None,
    provider: str,
    now: datetime,
) -> None:
    """Keep a name the provider gave for the person, to screen it now and at every later
    screening; a name already kept is kept once."""
    try:
        born = date.fromisoformat(birthdate) if birthdate else None
    except ValueError:
        born = None  # a provider's odd date must not stop the screening of the name
    await conn.execute(_REMEMBER, user_id, provider, name[:500], born, now)


async def screen_person(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    threshold: float,
    actor: str,
    now: datetime,
    loaded: LoadedList | None = None,
    clear_stale: bool = False,
) -> PersonOutcome:
    """Screen every name kept for the person against the newest list (``loaded``, or the
    cached one), and remember that list as the one they were screened against. Without a
    list, or without a name, nothing changes (and the person stays unscreened).

    Only a screening against a whole list (``clear_stale``: an import, the daily run)
    clears open hits, and only those whose entry has left the list."""
    names = await conn.fetch(_NAMES_OF, user_id)
    if loaded is None:
        loaded = await cached_newest_list(conn)
    if not names or loaded is None:
        return PersonOutcome(user_id=user_id, new_hits=[], cleared=0)
    best: dict[str, tuple[int, float, Record]] = {}
    for subject in names:
        for position, score in loaded.index.search(subject["name"], threshold):
            listed = loaded.names[position]
            if not listed.may_be_a_person:
                continue
            if listed.entry_key not in best or score > best[listed.entry_key][1]:
                best[listed.entry_key] = (position, score, subject)
    new_hits = []
    for key, (position, score, subject) in best.items():
        listed = loaded.names[position]
        hit_id = await conn.fetchval(
            _UPSERT_HIT,
            uuid.uuid4(),
            user_id,
            loaded.snapshot_id,
            listed.entry_id,
            key,
            listed.source,
            subject["name"],
            listed.name,
            round(score, 2),
            birthdate_match(subject["birthdate"], listed.dates_of_birth),
            now,
        )
        if hit_id is not None:
            new_hits.append(hit_id)
    await conn.execute(_SCREENED_AGAINST, user_id, loaded.snapshot_id, now)
    cleared = (
        await conn.fetch(_CLEAR_DELISTED, user_id, loaded.entry_keys(), now) if clear_stale else []
    )
    if new_hits or cleared:
        await record_event(
            conn,
            at=now,
            actor=actor,
            action="person.screened",
            target=f"user:{user_id}",
            data={
                "snapshot": str(loaded.snapshot_id),
                "new_hits": [str(h) for h in new_hits],
                "cleared": [str(r["id"]) for r in cleared],
            },
        )
    if new_hits:
        # Held from now on; tokens already out were decided before the hit.
        await revoke_user_tokens(conn, user_id, actor=actor, reason="screening_review", now=now)
    return PersonOutcome(user_id=user_id, new_hits=new_hits, cleared=len(cleared))


async def rescreen_people(
    conn: Connection, *, threshold: float, now: datetime, loaded: LoadedList | None
) -> list[PersonOutcome]:
    """Every person with a verified name, against ``loaded`` (the newest list)."""
    if loaded is None:
        return []
    return [
        await screen_person(
            conn, user_id=row["user_id"], threshold=threshold, actor="system", now=now,
            loaded=loaded, clear_stale=True,
        )
        for row in await conn.fetch(_SUBJECTS)
    ]  # fmt: skip


async def list_person_hits(
    conn: Connection, *, state: Literal["open", "overridden", "cleared"] | None = None
) -> list[PersonHit]:
    return await rows_opened(
        conn, PersonHit, await conn.fetch(_LIST, state), texts=("justification",)
    )


async def hits_of_person(conn: Connection, user_id: uuid.UUID) -> tuple[bool, list[PersonHit]]:
    """(whether the person has a verified name to screen, their hits, open first)."""
    screened = bool(await conn.fetchval(_IS_SCREENED, user_id))
    hits = await rows_opened(
        conn, PersonHit, await conn.fetch(_OF_PERSON, user_id), texts=("justification",)
    )
    return screened, hits


async def override_person_hit(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    hit_id: uuid.UUID,
    justification: str,
    actor: str,
    now: datetime,
    validity: timedelta,
    rule: FourEyes,
) -> PersonHit | Proposed:
    """Operators decide an open hit is not this person, for ``validity``: one proposes
    (``Proposed``), a second approves under ``rule`` and the hold ends. Each states why;
    the hit keeps the approver's words, the audit trail both."""
    state = await conn.fetchval(_HIT_STATE, user_id, hit_id)
    if state is None:
        raise NotFound("no such screening hit for this person")
    if state != "open":
        raise HitNotOpen(f"the hit is {state}, not open")
    decided = await propose_or_approve(
        conn, kind="person_hit.override", target=f"screening-hit:{hit_id}", actor=actor,
        now=now, rule=rule, owner=for_person(user_id), note=justification,
    )  # fmt: skip
    if isinstance(decided, Proposed):
        return decided
    # The justification may name the person (a birth date, a place): sealed under their key
    # in the hit and in the event alike, so that erasing them leaves it nowhere in clear.
    sealed = await seal(conn, for_person(user_id), justification, now=now)
    hit = await row_opened(
        conn,
        PersonHit,
        await conn.fetchrow(_OVERRIDE, user_id, hit_id, now, actor, sealed, now + validity),
        texts=("justification",),
    )
    assert hit is not None  # locked open above
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="person.screening.overridden",
        target=f"user:{user_id}",
        data={
            "hit": str(hit_id),
            "justification": sealed,
            "expires_at": (now + validity).isoformat(),
            "proposed_by": decided.proposed_by,
        },
    )
    return hit
