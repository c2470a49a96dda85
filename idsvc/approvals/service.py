"""Approving a pending decision from the queue (``/v1/operator/decisions``, the console's
Decisions page): the approver does not retype the proposal; the decision's own action runs
with the proposal's terms and the approver's reason, through the same four-eyes check as
a second call of that action would (``idsvc.four_eyes``). So there is one rule, whichever
way a decision is approved.

The country groups' sign-off is approved where it is proposed, with the command that
writes the sign-off into the file (``idsvc policy sign-off-country-groups``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec

from idsvc.attestations.service import confirm_most_recent_country, reinstate_attestation
from idsvc.audit.personal import open_sealed
from idsvc.db import Connection
from idsvc.erasure.service import erase_by_operator
from idsvc.errors import BadRequest, NotFound
from idsvc.four_eyes.service import FourEyes, Proposed
from idsvc.holds.service import lift_hold
from idsvc.orgs.vetting.organisations import set_org_programs, set_org_status
from idsvc.screening.service import override_person_hit
from idsvc.settings import Settings

__all__ = ["Approval", "approve_decision"]


class Approval(msgspec.Struct, frozen=True, kw_only=True):
    decision: uuid.UUID
    kind: str
    target: str
    # "decided": the action ran; "proposed": the proposal had lapsed, so this approval
    # became a new proposal that waits for another operator.
    outcome: Literal["decided", "proposed"]


_DECISION = """
SELECT kind, target, terms FROM pending_decisions
WHERE id = $1 AND state = 'pending' AND expires_at > $2
"""
_HIT_OWNER = "SELECT user_id FROM person_screening_hits WHERE id = $1"
_ATTESTATION_OWNER = "SELECT user_id FROM attestations WHERE id = $1"


async def approve_decision(
    conn: Connection,
    decision: uuid.UUID,
    *,
    actor: str,
    reason: str,
    now: datetime,
    rule: FourEyes,
    settings: Settings,
) -> Approval:
    """Run the pending decision's action as ``actor``, with its proposed terms."""
    row = await conn.fetchrow(_DECISION, decision, now)
    if row is None:
        raise NotFound("no pending decision with that id (decided, replaced or lapsed)")
    kind, target = row["kind"], row["target"]
    action = _ACTIONS.get(kind)
    if action is None:
        raise BadRequest(
            "approve the country groups' sign-off with `idsvc policy "
            "sign-off-country-groups`, which writes it into the file"
        )
    request = _Request(
        subject=uuid.UUID(target.rsplit(":", 1)[-1]), terms=await open_sealed(conn, row["terms"]),
        actor=actor, reason=reason, now=now, rule=rule, settings=settings,
    )  # fmt: skip
    done = await action(conn, request)
    return Approval(
        decision=decision, kind=kind, target=target,
        outcome="proposed" if isinstance(done, Proposed) else "decided",
    )  # fmt: skip


class _Request(msgspec.Struct, frozen=True, kw_only=True):
    """What every action is run with: the subject, the proposed terms, the approver."""

    subject: uuid.UUID
    terms: Any
    actor: str
    reason: str
    now: datetime
    rule: FourEyes
    settings: Settings


async def _lift_hold(conn: Connection, r: _Request) -> object:
    return await lift_hold(conn, hold=r.subject, actor=r.actor, now=r.now, rule=r.rule)


async def _approve_org(conn: Connection, r: _Request) -> object:
    screening = r.settings.config.screening
    return await set_org_status(
        conn, org_id=r.subject, status=r.terms["status"], reason=r.reason, actor=r.actor,
        now=r.now, four_eyes=screening.four_eyes_approval, rule=r.rule,
        list_max_age=screening.list_max_age,
    )  # fmt: skip


async def _grant_programs(conn: Connection, r: _Request) -> object:
    return await set_org_programs(
        conn, org_id=r.subject, programs=list(r.terms["programs"]), reason=r.reason,
        actor=r.actor, now=r.now, rule=r.rule,
        list_max_age=r.settings.config.screening.list_max_age,
    )  # fmt: skip


async def _override_hit(conn: Connection, r: _Request) -> object:
    return await override_person_hit(
        conn, user_id=await _owner(conn, _HIT_OWNER, r.subject), hit_id=r.subject,
        justification=r.reason, actor=r.actor, now=r.now, rule=r.rule,
        validity=timedelta(seconds=r.settings.config.screening.override_validity),
    )  # fmt: skip


async def _confirm_determination(conn: Connection, r: _Request) -> object:
    return await confirm_most_recent_country(
        conn, user_id=await _owner(conn, _ATTESTATION_OWNER, r.subject),
        attestation_id=r.subject, operator=_operator(r.actor), now=r.now, rule=r.rule,
    )  # fmt: skip


async def _reinstate(conn: Connection, r: _Request) -> object:
    return await reinstate_attestation(
        conn, r.subject, actor=r.actor, reason=r.reason, now=r.now, rule=r.rule
    )


async def _erase(conn: Connection, r: _Request) -> object:
    period = r.settings.config.retention.period
    return await erase_by_operator(
        conn, user_id=r.subject, reason=r.reason, actor=r.actor, now=r.now,
        retention=timedelta(seconds=period) if period else None, despite_retention=True,
        rule=r.rule,
    )  # fmt: skip


# Each kind's action. The country groups' sign-off is missing on purpose: the command that
# approves it also writes it into the file.
_ACTIONS: dict[str, Callable[[Connection, _Request], Awaitable[object]]] = {
    "legal_hold.lift": _lift_hold,
    "org.approve": _approve_org,
    "org.programs.grant": _grant_programs,
    "person_hit.override": _override_hit,
    "most_recent_country.confirm": _confirm_determination,
    "attestation.reinstate": _reinstate,
    "erasure.despite_retention": _erase,
}


async def _owner(conn: Connection, query: str, subject: uuid.UUID) -> uuid.UUID:
    user_id: uuid.UUID | None = await conn.fetchval(query, subject)
    if user_id is None:
        raise NotFound("the decision's subject no longer exists")
    return user_id


def _operator(actor: str) -> uuid.UUID:
    # Console and API operators act as "user:<id>".
    return uuid.UUID(actor.removeprefix("user:"))
