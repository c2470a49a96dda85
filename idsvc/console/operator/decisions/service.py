"""What the Decisions page shows: each pending decision with a link to the page of the
person or organisation it concerns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from idsvc.db import Connection
from idsvc.four_eyes.service import PendingDecision, pending_decisions

__all__ = ["DecisionRow", "decision_rows"]

# What each kind of decision does, in the words of the page.
_ACTIONS = {
    "legal_hold.lift": "Lift a legal hold",
    "org.approve": "Approve or reinstate an organisation",
    "org.programs.grant": "Grant programs to an organisation",
    "person_hit.override": "Override a person's screening hit",
    "most_recent_country.confirm": "Confirm a most-recent-country determination",
    "attestation.reinstate": "Reinstate a revoked attestation",
    "erasure.despite_retention": "Erase a person despite the retention period",
    "country_groups.sign_off": "Sign off the country groups (approve with the command)",
}
# The page of the person or organisation a decision's target concerns.
_SUBJECT = {
    "attestation": "SELECT 'user:' || user_id FROM attestations WHERE id = $1",
    "screening-hit": "SELECT 'user:' || user_id FROM person_screening_hits WHERE id = $1",
    "legal-hold": "SELECT target FROM legal_holds WHERE id = $1",
}
_PAGES = {"user": "/console/users/", "org": "/console/orgs/"}


class DecisionRow(msgspec.Struct, frozen=True, kw_only=True):
    decision: PendingDecision
    action: str
    terms: str
    link: str | None
    # Approved here (every kind but the sign-off, which the command writes into its file).
    approvable: bool


async def decision_rows(conn: Connection, *, now: datetime) -> list[DecisionRow]:
    rows = []
    for decision in await pending_decisions(conn, now=now):
        rows.append(
            DecisionRow(
                decision=decision,
                action=_ACTIONS.get(decision.kind, decision.kind),
                terms=_terms_text(decision.terms),
                link=await _link(conn, decision.target),
                approvable=decision.kind != "country_groups.sign_off",
            )
        )
    return rows


def _terms_text(terms: Any) -> str:
    if not isinstance(terms, dict) or not terms:
        return ""
    parts = []
    for key, value in sorted(terms.items()):
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{key}: {shown or 'none'}")
    return "; ".join(parts)


async def _link(conn: Connection, target: str) -> str | None:
    kind, _, ident = target.partition(":")
    try:
        subject = uuid.UUID(ident)
    except ValueError:
        return None
    if kind in _SUBJECT:
        owner = await conn.fetchval(_SUBJECT[kind], subject)
        if owner is None:
            return None
        kind, _, ident = str(owner).partition(":")
    page = _PAGES.get(kind)
    return f"{page}{ident}" if page else None
