"""Operator API for people: read a user's attestations, revoke one with a reason, record
the most recent country of citizenship, decide on a person's screening hits.

Nationality and evidence are visible to operators only. State changes need the session
cookie and the CSRF header; the revocation and its audit event share one transaction.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from idsvc.accounts.operators import is_operator
from idsvc.accounts.session_guard import require_session
from idsvc.accounts.sessions import Session
from idsvc.attestations.determinations import record_most_recent_country
from idsvc.attestations.store import (
    operator_reads_attestations,
    revoke_attestation,
)
from idsvc.audit import record_event
from idsvc.errors import BadRequest, Forbidden, NotFound
from idsvc.http.body import read_json
from idsvc.http.openapi import documented
from idsvc.runtime import Runtime, RuntimeDependency
from idsvc.screening.people import PersonHit, list_person_hits, override_person_hit

__all__ = ["operator_routes"]


class RevokeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=500)]


class MostRecentCountry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # ISO 3166-1 alpha-2 or alpha-3.
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=3, pattern=r"^[A-Za-z]+$")]
    # What the determination rests on (documents seen, dates of naturalisation).
    justification: Annotated[str, msgspec.Meta(min_length=20, max_length=2000)]


async def _operator(
    request: Request[Any, Any, Any], runtime: Runtime, *, changing: bool
) -> Session:
    session = await require_session(request, runtime, changing=changing)
    async with runtime.pool.acquire() as conn:
        if not await is_operator(conn, session.user_id, runtime.settings.config.operators):
            raise Forbidden("operators only")
    return session


@get("/v1/operator/users/{user_id:uuid}/attestations")
async def user_attestations(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    session = await _operator(request, runtime, changing=False)
    async with runtime.pool.acquire() as conn, conn.transaction():
        attestations = await operator_reads_attestations(
            conn, user_id, operator=session.user_id, now=runtime.clock()
        )
    return Response({"attestations": attestations}, headers={"Cache-Control": "no-store"})


@post(
    "/v1/operator/attestations/{attestation_id:uuid}/revoke",
    status_code=200,
    opt=documented(body=RevokeRequest),
)
async def revoke(
    request: Request[Any, Any, Any], attestation_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> dict[str, str]:
    session = await _operator(request, runtime, changing=True)
    body = await read_json(request, RevokeRequest)
    async with runtime.pool.acquire() as conn, conn.transaction():
        revoked = await revoke_attestation(
            conn,
            attestation_id,
            actor=f"user:{session.user_id}",
            reason=body.reason,
            now=runtime.clock(),
        )
    if not revoked:
        raise NotFound("no such attestation, or it is already revoked")
    return {"status": "revoked"}


@post(
    "/v1/operator/users/{user_id:uuid}/most-recent-country",
    status_code=201,
    opt=documented(body=MostRecentCountry),
)
async def determine_most_recent_country(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> dict[str, str]:
    """Record the person's most recent country of citizenship or permanent residency, for
    policies with nationality_rule = "most_recent" (15 CFR 734.13(b))."""
    session = await _operator(request, runtime, changing=True)
    body = await read_json(request, MostRecentCountry)
    async with runtime.pool.acquire() as conn, conn.transaction():
        attestation_id = await record_most_recent_country(
            conn,
            user_id=user_id,
            country=body.country,
            justification=body.justification.strip(),
            operator=session.user_id,
            now=runtime.clock(),
        )
    return {"attestation": str(attestation_id)}


_DECISIONS = """
SELECT seq, occurred_at, action, data FROM audit_events
WHERE target = $1 AND action IN ('token.issued', 'token.denied')
ORDER BY seq
LIMIT 100000
"""


@get("/v1/operator/users/{user_id:uuid}/decisions")
async def decision_history(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    """Every token decision about the person — issued or denied, with audience, policy
    version, reasons and the evidence it named — for a compliance file. The export is
    itself audited (who took a person's history, and when)."""
    session = await _operator(request, runtime, changing=False)
    now = runtime.clock()
    async with runtime.pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(_DECISIONS, f"user:{user_id}")
        await record_event(
            conn,
            at=now,
            actor=f"user:{session.user_id}",
            action="person.decisions.exported",
            target=f"user:{user_id}",
            data={"decisions": len(rows)},
        )
    decisions = [
        {
            "event": r["seq"],
            "at": r["occurred_at"].isoformat(),
            "outcome": "issued" if r["action"] == "token.issued" else "denied",
            **r["data"],
        }
        for r in rows
    ]
    return Response(
        {"user": str(user_id), "decisions": decisions}, headers={"Cache-Control": "no-store"}
    )


class OverrideRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    justification: Annotated[str, msgspec.Meta(min_length=20, max_length=2000)]


@get("/v1/operator/screening/people")
async def person_hits(
    request: Request[Any, Any, Any],
    runtime: RuntimeDependency,
    # "state" is a name Litestar reserves for handler parameters.
    hit_state: Annotated[
        Literal["open", "overridden", "cleared"] | None, QueryParameter(name="state")
    ] = None,
) -> Response[Any]:
    """People whose verified name resembles a listed individual (operators only)."""
    await _operator(request, runtime, changing=False)
    async with runtime.pool.acquire() as conn:
        hits = await list_person_hits(conn, state=hit_state)
    return Response({"hits": hits}, headers={"Cache-Control": "no-store"})


@post(
    "/v1/operator/users/{user_id:uuid}/screening-hits/{hit_id:uuid}/override",
    status_code=200,
    opt=documented(body=OverrideRequest),
)
async def override_person(
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    hit_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> Response[PersonHit]:
    """An operator decides the hit is not this person; the hold ends with it."""
    session = await _operator(request, runtime, changing=True)
    body = await read_json(request, OverrideRequest)
    if len(body.justification.strip()) < 20:
        raise BadRequest("justification: explain the decision in at least 20 characters")
    async with runtime.pool.acquire() as conn, conn.transaction():
        hit = await override_person_hit(
            conn,
            user_id=user_id,
            hit_id=hit_id,
            justification=body.justification.strip(),
            actor=f"user:{session.user_id}",
            now=runtime.clock(),
            validity=timedelta(seconds=runtime.settings.config.screening.override_validity),
        )
    return Response(hit, headers={"Cache-Control": "no-store"})


operator_routes = [
    user_attestations,
    revoke,
    determine_most_recent_country,
    person_hits,
    override_person,
    decision_history,
]
