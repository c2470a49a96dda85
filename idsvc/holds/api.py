"""Operator API for legal holds: place one on a person or an organisation, list them, lift
one (four eyes: the first operator's call proposes, a second operator's call lifts).

Operators only (``operator_only``), with the CSRF header on changes; each change and its
audit event share the request's transaction (a refused own approval commits its audit
event: ``OwnProposal`` is an audited refusal).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from idsvc.accounts.guards import operator_only
from idsvc.db import Connection
from idsvc.four_eyes.service import Approved, FourEyes
from idsvc.holds.service import active_holds, lift_hold, place_hold
from idsvc.http.body import read_json
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.openapi import documented

__all__ = ["routes"]


class HoldRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # The investigation's or proceeding's reference (a case number, a subpoena's).
    case_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    reason: Annotated[str, msgspec.Meta(min_length=10, max_length=1000)]


async def _place(
    request: Request[Any, Any, Any],
    *,
    kind: Literal["user", "org"],
    subject: uuid.UUID,
    actor: str,
    conn: Connection,
    now: datetime,
) -> dict[str, str]:
    body = await read_json(request, HoldRequest)
    hold = await place_hold(
        conn, kind=kind, subject=subject, case_reference=body.case_reference.strip(),
        reason=body.reason.strip(), actor=actor, now=now,
    )  # fmt: skip
    return {"hold": str(hold), "status": "held"}


@post(
    "/v1/operator/users/{user_id:uuid}/legal-hold",
    status_code=201,
    guards=[operator_only],
    opt=documented(body=HoldRequest),
)
async def hold_person(
    *, request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], actor: Actor,
    conn: Transaction, now: Now,
) -> dict[str, str]:  # fmt: skip
    """Keep the person's records (erasure by hand or by retention is refused)."""
    return await _place(request, kind="user", subject=user_id, actor=actor, conn=conn, now=now)


@post(
    "/v1/operator/orgs/{org_id:uuid}/legal-hold",
    status_code=201,
    guards=[operator_only],
    opt=documented(body=HoldRequest),
)
async def hold_organisation(
    *, request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], actor: Actor,
    conn: Transaction, now: Now,
) -> dict[str, str]:  # fmt: skip
    """Keep the organisation's records, and those of everyone who is or was its member."""
    return await _place(request, kind="org", subject=org_id, actor=actor, conn=conn, now=now)


@get("/v1/operator/users/{user_id:uuid}/legal-holds", guards=[operator_only])
async def person_holds(*, user_id: FromPath[uuid.UUID], conn: Transaction) -> Response[Any]:
    holds = await active_holds(conn, kind="user", subject=user_id)
    return Response({"holds": holds}, headers={"Cache-Control": "no-store"})


@get("/v1/operator/orgs/{org_id:uuid}/legal-holds", guards=[operator_only])
async def organisation_holds(*, org_id: FromPath[uuid.UUID], conn: Transaction) -> Response[Any]:
    holds = await active_holds(conn, kind="org", subject=org_id)
    return Response({"holds": holds}, headers={"Cache-Control": "no-store"})


@post("/v1/operator/legal-holds/{hold_id:uuid}/lift", status_code=200, guards=[operator_only])
async def lift(
    *, hold_id: FromPath[uuid.UUID], actor: Actor, four_eyes: Injected[FourEyes],
    conn: Transaction, now: Now,
) -> Response[dict[str, str]]:  # fmt: skip
    """Four eyes: the first operator's call proposes lifting (202), a second operator's
    lifts it (200); the proposer's own second call is refused (409 ``own_proposal``)."""
    outcome = await lift_hold(conn, hold=hold_id, actor=actor, now=now, rule=four_eyes)
    if isinstance(outcome, Approved):
        return Response({"hold": str(hold_id), "status": "lifted"}, status_code=200)
    return Response(
        {"hold": str(hold_id), "status": "pending_second_operator",
         "expires_at": outcome.expires_at.isoformat()},
        status_code=202,
    )  # fmt: skip


routes = [hold_person, hold_organisation, person_holds, organisation_holds, lift]
