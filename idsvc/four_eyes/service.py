"""Four eyes, one mechanism: a decision that one operator proposes takes effect only when a
second operator approves it.

``propose_or_approve`` is the whole protocol for an action on a target: the first operator's
call records a proposal (``four_eyes.proposed``) and changes nothing else; a second
operator's call approves it (``four_eyes.approved``) and the caller runs the action in the
same transaction; the proposer's own second call is refused (``OwnProposal``, audited as
``four_eyes.refused``, committed with the refusal). A proposal lapses after ``validity``: a
decision approved weeks later would rest on facts nobody re-checked. The table's check
constraint says the same as the code: nobody approves their own proposal.

Used by the lifting of legal holds (idsvc.holds); docs/audit.md lists what takes four eyes.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from idsvc.audit import record_event
from idsvc.db import Connection
from idsvc.four_eyes.errors import OwnProposal

__all__ = ["Approved", "Kind", "Proposed", "propose_or_approve"]

Kind = Literal["legal_hold.lift"]
DEFAULT_VALIDITY = timedelta(days=7)


class Proposed(msgspec.Struct, frozen=True, kw_only=True):
    decision: uuid.UUID
    expires_at: datetime


class Approved(msgspec.Struct, frozen=True, kw_only=True):
    decision: uuid.UUID
    proposed_by: str


# Lapsed proposals first, so that the open one found below is live.
_EXPIRE = """
UPDATE pending_decisions SET state = 'expired'
WHERE kind = $1 AND target = $2 AND state = 'pending' AND expires_at <= $3
"""
_OPEN = """
SELECT id, proposed_by FROM pending_decisions
WHERE kind = $1 AND target = $2 AND state = 'pending'
FOR UPDATE
"""
_PROPOSE = """
INSERT INTO pending_decisions (id, kind, target, proposed_by, proposed_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""
_APPROVE = """
UPDATE pending_decisions SET state = 'approved', decided_by = $2, decided_at = $3
WHERE id = $1
"""


async def propose_or_approve(
    conn: Connection,
    *,
    kind: Kind,
    target: str,
    actor: str,
    now: datetime,
    validity: timedelta = DEFAULT_VALIDITY,
) -> Proposed | Approved:
    """Record a proposal, or approve the open one; on ``Approved`` the caller acts now, in
    this transaction. Raises ``OwnProposal`` for the proposer's own approval."""
    await conn.execute(_EXPIRE, kind, target, now)
    open_row = await conn.fetchrow(_OPEN, kind, target)
    if open_row is None:
        decision = uuid.uuid4()
        await conn.execute(_PROPOSE, decision, kind, target, actor, now, now + validity)
        await record_event(
            conn, at=now, actor=actor, action="four_eyes.proposed", target=target,
            data={"decision": str(decision), "kind": kind},
        )  # fmt: skip
        return Proposed(decision=decision, expires_at=now + validity)
    decision, proposed_by = open_row["id"], open_row["proposed_by"]
    if proposed_by == actor:
        await record_event(
            conn, at=now, actor=actor, action="four_eyes.refused", target=target,
            data={"decision": str(decision), "kind": kind, "reason": "own_proposal"},
        )  # fmt: skip
        raise OwnProposal("you proposed this; another operator must approve it")
    await conn.execute(_APPROVE, decision, actor, now)
    await record_event(
        conn, at=now, actor=actor, action="four_eyes.approved", target=target,
        data={"decision": str(decision), "kind": kind, "proposed_by": proposed_by},
    )  # fmt: skip
    return Approved(decision=decision, proposed_by=proposed_by)
