"""Legal holds (15 CFR 762.6(b): records are kept while an investigation or proceeding is
known): placed on a person or an organisation by one operator, lifted by two (four eyes).

A person's records are also held, without anyone placing a hold, while something about
them is undecided: an open screening hit, or a most-recent-country determination still
waiting for its second operator. Erasure by hand and the retention job both ask
``holds_on_person`` first and refuse (``UnderLegalHold``) while it names anything; a hold
on an organisation holds every person who is or was its member, because their records are
part of its file.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from idsvc.audit import record_event
from idsvc.audit.personal import for_org, for_person, open_sealed, seal
from idsvc.db import Connection
from idsvc.errors import NotFound
from idsvc.four_eyes.service import Approved, FourEyes, Proposed, propose_or_approve
from idsvc.holds.errors import HoldNotFound, UnderLegalHold

__all__ = [
    "Hold",
    "active_holds",
    "ensure_not_held",
    "holds_on_person",
    "lift_hold",
    "place_hold",
]


class Hold(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    target: str
    case_reference: str
    reason: str
    placed_by: str
    placed_at: datetime


_EXISTS = {
    "user": "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)",
    "org": "SELECT EXISTS (SELECT 1 FROM organisations WHERE id = $1)",
}
_PLACE = """
INSERT INTO legal_holds (id, target, case_reference, reason, placed_by, placed_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""
_ACTIVE = """
SELECT id, target, case_reference, reason, placed_by, placed_at FROM legal_holds
WHERE target = $1 AND lifted_at IS NULL ORDER BY placed_at, id
"""
_HOLD = "SELECT target FROM legal_holds WHERE id = $1 AND lifted_at IS NULL FOR UPDATE"
_LIFT = "UPDATE legal_holds SET lifted_by = $2, lifted_at = $3 WHERE id = $1"
# Everything that holds a person's records, in one statement: holds placed on them or on
# an organisation they are or were a member of, open screening hits, pending determinations.
_ON_PERSON = """
SELECT 'case ' || h.case_reference AS why FROM legal_holds h
WHERE h.lifted_at IS NULL
  AND (h.target = 'user:' || $1::uuid::text
       OR h.target IN (SELECT 'org:' || m.org_id::text FROM memberships m
                       WHERE m.user_id = $1::uuid))
UNION ALL
SELECT 'an open screening hit' FROM person_screening_hits
WHERE user_id = $1::uuid AND state = 'open'
UNION ALL
SELECT 'a determination awaiting its second operator' FROM attestations
WHERE user_id = $1::uuid AND kind = 'most_recent_country' AND confirmed_at IS NULL
  AND revoked_at IS NULL AND superseded_by IS NULL
"""


async def place_hold(
    conn: Connection,
    *,
    kind: str,
    subject: uuid.UUID,
    case_reference: str,
    reason: str,
    actor: str,
    now: datetime,
) -> uuid.UUID:
    """Hold a person's (``kind="user"``) or an organisation's (``"org"``) records. One
    operator suffices: keeping records is the safe side."""
    if not await conn.fetchval(_EXISTS[kind], subject):
        raise NotFound(f"no such {'user' if kind == 'user' else 'organisation'}")
    target, hold = f"{kind}:{subject}", uuid.uuid4()
    # A hold may say why in words that name people: sealed under the person's (or the
    # organisation's) data key, like every such text (and shredded with it, once the hold
    # is lifted and the person erased).
    owner = for_person(subject) if kind == "user" else for_org(subject)
    stored = await seal(conn, owner, reason, now=now)
    await conn.execute(_PLACE, hold, target, case_reference, stored, actor, now)
    await record_event(
        conn, at=now, actor=actor, action="legal_hold.placed", target=target,
        data={"hold": str(hold), "case_reference": case_reference, "reason": stored},
    )  # fmt: skip
    return hold


async def active_holds(conn: Connection, *, kind: str, subject: uuid.UUID) -> list[Hold]:
    """The holds placed on a person or an organisation and not lifted, reasons opened."""
    holds = []
    for row in await conn.fetch(_ACTIVE, f"{kind}:{subject}"):
        opened = await open_sealed(conn, row["reason"])
        holds.append(
            Hold(
                id=row["id"],
                target=row["target"],
                case_reference=row["case_reference"],
                reason=str(opened),
                placed_by=row["placed_by"],
                placed_at=row["placed_at"],
            )
        )
    return holds


async def lift_hold(
    conn: Connection, *, hold: uuid.UUID, actor: str, now: datetime, rule: FourEyes
) -> Proposed | Approved:
    """The first operator proposes lifting the hold; a second one lifts it (``rule``)."""
    target = await conn.fetchval(_HOLD, hold)
    if target is None:
        raise HoldNotFound("no active legal hold has that id")
    outcome = await propose_or_approve(
        conn, kind="legal_hold.lift", target=f"legal-hold:{hold}", actor=actor, now=now,
        rule=rule,
    )  # fmt: skip
    if isinstance(outcome, Approved):
        await conn.execute(_LIFT, hold, actor, now)
        await record_event(
            conn, at=now, actor=actor, action="legal_hold.lifted", target=target,
            data={"hold": str(hold), "proposed_by": outcome.proposed_by},
        )  # fmt: skip
    return outcome


async def holds_on_person(conn: Connection, user_id: uuid.UUID) -> list[str]:
    """Why the person's records are held (empty: they are not)."""
    return [r["why"] for r in await conn.fetch(_ON_PERSON, user_id)]


async def ensure_not_held(conn: Connection, user_id: uuid.UUID) -> None:
    """Raise ``UnderLegalHold`` naming every hold on the person's records."""
    if reasons := await holds_on_person(conn, user_id):
        raise UnderLegalHold(
            f"the records are under legal hold ({'; '.join(reasons)}); "
            "they cannot be erased until every hold is lifted"
        )
