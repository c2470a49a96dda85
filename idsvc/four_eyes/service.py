"""Four eyes, one mechanism: a compliance decision that one operator proposes takes effect
only when a second operator approves it.

``propose_or_approve`` is the whole protocol for a decision on a target: the first
operator's call records a proposal (``four_eyes.proposed``) with its *terms* (what exactly
is decided: a status, programs, a country) and the proposer's note, and changes nothing
else; a second operator's call with the same terms approves it (``four_eyes.approved``)
and the caller acts in the same transaction. Refused, each refusal audited and committed
with it:

- the proposer approving their own proposal (``own_proposal``);
- an approver whose terms differ from the proposal (``proposal_differs``): they approve
  what was proposed or nothing; the proposer may replace their own proposal instead;
- an operator with a stake in the decision (``conflict_of_interest``): the caller names
  who, e.g. the organisation's requester and admins for its approval.

A proposal lapses after ``FourEyes.validity``: a decision approved weeks later would rest
on facts nobody re-checked. Where a deployment switches four eyes off (only ``idsvc dev``
does, and its console says so), the first call decides alone and the audit trail records
``four_eyes.waived``. The table's check constraint says the same as the code: nobody
approves their own proposal. docs/four-eyes.md lists every decision that takes four eyes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec

from idsvc.audit import record_event
from idsvc.audit.personal import Owner, open_sealed, seal, seal_text
from idsvc.db import Connection
from idsvc.four_eyes.errors import ConflictOfInterest, OwnProposal, ProposalDiffers
from idsvc.settings import ComplianceSettings

__all__ = [
    "Approved",
    "FourEyes",
    "Kind",
    "PendingDecision",
    "Proposed",
    "pending_decisions",
    "propose_or_approve",
    "rule_of",
]

Kind = Literal[
    "legal_hold.lift",
    "org.approve",
    "org.programs.grant",
    "person_hit.override",
    "most_recent_country.confirm",
    "attestation.reinstate",
    "erasure.despite_retention",
    "country_groups.sign_off",
]


class FourEyes(msgspec.Struct, frozen=True, kw_only=True):
    """The rule in force (``[compliance]``): whether a second operator must approve, and
    how long a proposal waits for one."""

    required: bool = True
    validity: timedelta = timedelta(days=7)


def rule_of(settings: ComplianceSettings) -> FourEyes:
    return FourEyes(
        required=settings.four_eyes, validity=timedelta(seconds=settings.proposal_validity)
    )


class Proposed(msgspec.Struct, frozen=True, kw_only=True):
    """What the first operator's call answers (202): the decision awaits a second one."""

    decision: uuid.UUID
    expires_at: datetime
    status: Literal["pending_second_operator"] = "pending_second_operator"


class Approved(msgspec.Struct, frozen=True, kw_only=True):
    decision: uuid.UUID
    # Who proposed it; the approver themselves where four eyes is waived.
    proposed_by: str


class PendingDecision(msgspec.Struct, frozen=True, kw_only=True):
    """A proposal waiting for its second operator, terms and note opened."""

    id: uuid.UUID
    kind: str
    target: str
    terms: Any
    note: str | None
    proposed_by: str
    proposed_at: datetime
    expires_at: datetime


_SERIALISE = "SELECT pg_advisory_xact_lock(hashtext($1))"
# Lapsed proposals first, so that the open one found below is live.
_EXPIRE = """
UPDATE pending_decisions SET state = 'expired'
WHERE kind = $1 AND target = $2 AND state = 'pending' AND expires_at <= $3
"""
_OPEN = """
SELECT id, proposed_by, terms FROM pending_decisions
WHERE kind = $1 AND target = $2 AND state = 'pending'
FOR UPDATE
"""
_PROPOSE = """
INSERT INTO pending_decisions (id, kind, target, proposed_by, proposed_at, expires_at,
                               terms, note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
_APPROVE = """
UPDATE pending_decisions SET state = 'approved', decided_by = $2, decided_at = $3
WHERE id = $1
"""
_REPLACE = "UPDATE pending_decisions SET state = 'replaced', decided_at = $2 WHERE id = $1"
_QUEUE = """
SELECT id, kind, target, terms, note, proposed_by, proposed_at, expires_at
FROM pending_decisions
WHERE state = 'pending' AND expires_at > $1
ORDER BY proposed_at, id
LIMIT $2
"""


def _canonical(terms: Mapping[str, Any]) -> Any:
    # Terms compare as JSON values: the order of keys (and of a sorted list) is no difference.
    return msgspec.json.decode(msgspec.json.encode(dict(sorted(terms.items()))))


async def propose_or_approve(
    conn: Connection,
    *,
    kind: Kind,
    target: str,
    actor: str,
    now: datetime,
    rule: FourEyes,
    owner: Owner | None = None,
    terms: Mapping[str, Any] | None = None,
    note: str | None = None,
    conflicted: Mapping[str, str] | None = None,
) -> Proposed | Approved:
    """Record a proposal, or approve the open one; on ``Approved`` the caller acts now, in
    this transaction, on ``terms``. ``owner`` seals the terms and the note (they may name
    a fact about a person); ``conflicted`` maps the actors who may take no part to why."""
    wanted = _canonical(terms or {})
    stake = (conflicted or {}).get(actor)
    if stake is not None:
        await _refuse(conn, kind=kind, target=target, actor=actor, now=now,
                      reason="conflict_of_interest", decision=None)  # fmt: skip
        raise ConflictOfInterest(f"you {stake}: operators without a stake in it decide")
    if not rule.required:
        await record_event(
            conn, at=now, actor=actor, action="four_eyes.waived", target=target,
            data={"kind": kind},
        )  # fmt: skip
        return Approved(decision=uuid.uuid4(), proposed_by=actor)
    # Two first calls at once would both find no proposal and both insert one; most callers
    # lock the decision's subject first, the country groups' sign-off has no row to lock.
    await conn.execute(_SERIALISE, f"{kind} {target}")
    await conn.execute(_EXPIRE, kind, target, now)
    open_row = await conn.fetchrow(_OPEN, kind, target)
    if open_row is not None:
        decision, proposed_by = open_row["id"], open_row["proposed_by"]
        proposed = await open_sealed(conn, open_row["terms"])
        if proposed_by != actor:
            if proposed != wanted:
                await _refuse(conn, kind=kind, target=target, actor=actor, now=now,
                              reason="proposal_differs", decision=decision)  # fmt: skip
                raise ProposalDiffers(
                    f"{proposed_by} proposed different terms ({_describe(proposed)}); "
                    "approve those, or wait until that proposal lapses"
                )
            await conn.execute(_APPROVE, decision, actor, now)
            await record_event(
                conn, at=now, actor=actor, action="four_eyes.approved", target=target,
                data={"decision": str(decision), "kind": kind, "proposed_by": proposed_by},
            )  # fmt: skip
            return Approved(decision=decision, proposed_by=proposed_by)
        if proposed == wanted:
            await _refuse(conn, kind=kind, target=target, actor=actor, now=now,
                          reason="own_proposal", decision=decision)  # fmt: skip
            raise OwnProposal("you proposed this; another operator must approve it")
        # The proposer changed their mind: the new terms replace the old proposal.
        await conn.execute(_REPLACE, decision, now)
    return await _propose(
        conn, kind=kind, target=target, actor=actor, now=now, rule=rule, owner=owner,
        terms=wanted, note=note,
    )  # fmt: skip


async def _propose(
    conn: Connection,
    *,
    kind: Kind,
    target: str,
    actor: str,
    now: datetime,
    rule: FourEyes,
    owner: Owner | None,
    terms: Any,
    note: str | None,
) -> Proposed:
    decision = uuid.uuid4()
    expires_at = now + rule.validity
    stored_terms = await seal(conn, owner, terms, now=now) if owner is not None else terms
    stored_note = await seal_text(conn, owner, note, now=now) if owner is not None else note
    await conn.execute(
        _PROPOSE, decision, kind, target, actor, now, expires_at, stored_terms, stored_note
    )
    await record_event(
        conn, at=now, actor=actor, action="four_eyes.proposed", target=target,
        data={"decision": str(decision), "kind": kind, "terms": stored_terms,
              "note": stored_note},
    )  # fmt: skip
    return Proposed(decision=decision, expires_at=expires_at)


async def _refuse(
    conn: Connection,
    *,
    kind: Kind,
    target: str,
    actor: str,
    now: datetime,
    reason: str,
    decision: uuid.UUID | None,
) -> None:
    data: dict[str, Any] = {"kind": kind, "reason": reason}
    if decision is not None:
        data["decision"] = str(decision)
    await record_event(
        conn, at=now, actor=actor, action="four_eyes.refused", target=target, data=data
    )


def _describe(terms: Any) -> str:
    if isinstance(terms, dict) and terms:
        return ", ".join(f"{key}: {value}" for key, value in terms.items())
    return "none"


async def pending_decisions(
    conn: Connection, *, now: datetime, limit: int = 200
) -> list[PendingDecision]:
    """What waits for a second operator, oldest first, terms and notes opened (an erased
    person's read as ``None``)."""
    decisions = []
    for row in await conn.fetch(_QUEUE, now, limit):
        terms = await open_sealed(conn, row["terms"])
        note = await open_sealed(conn, row["note"])
        decisions.append(
            PendingDecision(
                id=row["id"],
                kind=row["kind"],
                target=row["target"],
                terms=terms,
                note=note if isinstance(note, str) else None,
                proposed_by=row["proposed_by"],
                proposed_at=row["proposed_at"],
                expires_at=row["expires_at"],
            )
        )
    return decisions
