"""The operators' queue of pending decisions over HTTP: ``GET /v1/operator/decisions``
lists what waits for a second operator; ``POST /v1/operator/decisions/{id}/approve``
approves one with a reason (its action runs with the proposed terms, four eyes checked
as for a second call of that action: ``own_proposal``, ``conflict_of_interest``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from idsvc.accounts.guards import operator_only
from idsvc.approvals.service import Approval, approve_decision
from idsvc.four_eyes.service import FourEyes, pending_decisions
from idsvc.http.body import read_json
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.openapi import documented
from idsvc.settings import Settings

__all__ = ["ApprovalRequest", "routes"]

_NO_STORE = {"Cache-Control": "no-store"}


class ApprovalRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # The approver's own reason (recorded; sealed where it may name the person). Like an
    # erasure's reason it should name no person: a case number, what was checked.
    reason: Annotated[str, msgspec.Meta(min_length=20, max_length=200)]


@get("/v1/operator/decisions", guards=[operator_only])
async def queue(
    *,
    conn: Transaction,
    now: Now,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 200,
) -> Response[Any]:
    """Decisions waiting for a second operator, oldest first, with their terms and notes."""
    decisions = await pending_decisions(conn, now=now, limit=limit)
    return Response({"decisions": decisions}, headers=_NO_STORE)


@post(
    "/v1/operator/decisions/{decision_id:uuid}/approve",
    status_code=200,
    guards=[operator_only],
    opt=documented(body=ApprovalRequest),
)
async def approve(
    *,
    request: Request[Any, Any, Any],
    decision_id: FromPath[uuid.UUID],
    actor: Actor,
    four_eyes: Injected[FourEyes],
    settings: Injected[Settings],
    conn: Transaction,
    now: Now,
) -> Response[Approval]:
    body = await read_json(request, ApprovalRequest)
    approval = await approve_decision(
        conn, decision_id, actor=actor, reason=body.reason.strip(), now=now, rule=four_eyes,
        settings=settings,
    )  # fmt: skip
    status = 202 if approval.outcome == "proposed" else 200
    return Response(approval, status_code=status, headers=_NO_STORE)


routes = [queue, approve]
