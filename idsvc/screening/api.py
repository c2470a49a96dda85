"""Operator API for people's restricted-party screening hits: the queue, and the decision
that a hit is not the person (which ends the hold on their tokens)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from idsvc.accounts.guards import operator_only
from idsvc.errors import BadRequest
from idsvc.four_eyes.service import FourEyes, Proposed
from idsvc.http.body import read_json
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.openapi import documented
from idsvc.screening.service import PersonHit, list_person_hits, override_person_hit
from idsvc.settings import Settings

__all__ = ["routes"]


class OverrideRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    justification: Annotated[str, msgspec.Meta(min_length=20, max_length=2000)]


@get("/v1/operator/screening/people", guards=[operator_only])
async def person_hits(
    *,
    conn: Transaction,
    # "state" is a name Litestar reserves for handler parameters.
    hit_state: Annotated[
        Literal["open", "overridden", "cleared"] | None, QueryParameter(name="state")
    ] = None,
) -> Response[Any]:
    """People whose verified name resembles a listed individual (operators only)."""
    hits = await list_person_hits(conn, state=hit_state)
    return Response({"hits": hits}, headers={"Cache-Control": "no-store"})


@post(
    "/v1/operator/users/{user_id:uuid}/screening-hits/{hit_id:uuid}/override",
    status_code=200,
    guards=[operator_only],
    opt=documented(body=OverrideRequest),
)
async def override_person(
    *,
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    hit_id: FromPath[uuid.UUID],
    actor: Actor,
    settings: Injected[Settings],
    four_eyes: Injected[FourEyes],
    conn: Transaction,
    now: Now,
) -> Response[PersonHit | Proposed]:
    """Operators decide the hit is not this person; the hold ends with it. Four eyes: the
    first operator's call proposes (202), a second operator's call decides (200)."""
    body = await read_json(request, OverrideRequest)
    if len(body.justification.strip()) < 20:
        raise BadRequest("justification: explain the decision in at least 20 characters")
    hit = await override_person_hit(
        conn,
        user_id=user_id,
        hit_id=hit_id,
        justification=body.justification.strip(),
        actor=actor,
        now=now,
        validity=timedelta(seconds=settings.config.screening.override_validity),
        rule=four_eyes,
    )
    if isinstance(hit, Proposed):
        return Response(hit, status_code=202, headers={"Cache-Control": "no-store"})
    return Response(hit, headers={"Cache-Control": "no-store"})


routes = [person_hits, override_person]
