"""Operator API for a person's attestations: read them, revoke one with a reason, record
the most recent country of citizenship, export the person's token decisions.

Nationality and evidence are visible to operators only (``operator_only``); state changes
also need the CSRF header. Each change and its audit event share the request's
transaction.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from idsvc.accounts.guards import operator_only
from idsvc.accounts.sessions import Session
from idsvc.attestations.service import (
    confirm_most_recent_country,
    export_decisions,
    read_attestations,
    record_most_recent_country,
    reinstate_attestation,
    revoke_with_reason,
)
from idsvc.four_eyes.service import FourEyes, Proposed
from idsvc.http.body import read_json
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.openapi import documented

__all__ = ["routes"]

_NO_STORE = {"Cache-Control": "no-store"}


class RevokeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=500)]


class MostRecentCountry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # ISO 3166-1 alpha-2 or alpha-3.
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=3, pattern=r"^[A-Za-z]+$")]
    # What the determination rests on (documents seen, dates of naturalisation).
    justification: Annotated[str, msgspec.Meta(min_length=20, max_length=2000)]


@get("/v1/operator/users/{user_id:uuid}/attestations", guards=[operator_only])
async def user_attestations(
    *,
    user_id: FromPath[uuid.UUID],
    session: Injected[Session],
    conn: Transaction,
    now: Now,
) -> Response[Any]:
    attestations = await read_attestations(conn, user_id, operator=session.user_id, now=now)
    return Response({"attestations": attestations}, headers={"Cache-Control": "no-store"})


@post(
    "/v1/operator/attestations/{attestation_id:uuid}/revoke",
    status_code=200,
    guards=[operator_only],
    opt=documented(body=RevokeRequest),
)
async def revoke(
    *,
    request: Request[Any, Any, Any],
    attestation_id: FromPath[uuid.UUID],
    actor: Actor,
    conn: Transaction,
    now: Now,
) -> dict[str, str]:
    body = await read_json(request, RevokeRequest)
    await revoke_with_reason(conn, attestation_id, actor=actor, reason=body.reason, now=now)
    return {"status": "revoked"}


@post(
    "/v1/operator/attestations/{attestation_id:uuid}/reinstate",
    status_code=200,
    guards=[operator_only],
    opt=documented(body=RevokeRequest),
)
async def reinstate(
    *,
    request: Request[Any, Any, Any],
    attestation_id: FromPath[uuid.UUID],
    actor: Actor,
    four_eyes: Injected[FourEyes],
    conn: Transaction,
    now: Now,
) -> Response[Any]:
    """Reverse a revocation made in error, with a reason. Four eyes: the first operator's
    call proposes (202), a second operator's call reinstates (200)."""
    body = await read_json(request, RevokeRequest)
    decided = await reinstate_attestation(
        conn, attestation_id, actor=actor, reason=body.reason, now=now, rule=four_eyes
    )
    if isinstance(decided, Proposed):
        return Response(decided, status_code=202, headers=_NO_STORE)
    return Response({"status": "reinstated"}, headers=_NO_STORE)


@post(
    "/v1/operator/users/{user_id:uuid}/most-recent-country",
    status_code=201,
    guards=[operator_only],
    opt=documented(body=MostRecentCountry),
)
async def determine_most_recent_country(
    *,
    request: Request[Any, Any, Any],
    user_id: FromPath[uuid.UUID],
    session: Injected[Session],
    four_eyes: Injected[FourEyes],
    conn: Transaction,
    now: Now,
) -> dict[str, str]:
    """Propose the person's most recent country of citizenship or permanent residency, for
    policies with nationality_rule = "most_recent" (15 CFR 734.13(b)). It must be a country
    the person's evidence names; it takes effect when another operator confirms it."""
    body = await read_json(request, MostRecentCountry)
    attestation_id, decided = await record_most_recent_country(
        conn,
        user_id=user_id,
        country=body.country,
        justification=body.justification.strip(),
        operator=session.user_id,
        now=now,
        rule=four_eyes,
    )
    if decided is None:  # four eyes waived (development): in effect at once
        return {"attestation": str(attestation_id), "status": "confirmed"}
    return {
        "attestation": str(attestation_id),
        "status": "pending_confirmation",
        "decision": str(decided.decision),
        "expires_at": decided.expires_at.isoformat(),
    }


@post(
    "/v1/operator/users/{user_id:uuid}/most-recent-country/{attestation_id:uuid}/confirm",
    status_code=200,
    guards=[operator_only],
)
async def confirm_determination(
    *,
    user_id: FromPath[uuid.UUID],
    attestation_id: FromPath[uuid.UUID],
    session: Injected[Session],
    four_eyes: Injected[FourEyes],
    conn: Transaction,
    now: Now,
) -> Response[Any]:
    """A second operator confirms a proposed determination (four eyes): it takes effect,
    and the person's live tokens are revoked."""
    decided = await confirm_most_recent_country(
        conn, user_id=user_id, attestation_id=attestation_id, operator=session.user_id,
        now=now, rule=four_eyes,
    )  # fmt: skip
    if decided is not None:
        # The proposal had lapsed: this operator's confirmation is a new proposal.
        return Response(decided, status_code=202, headers=_NO_STORE)
    return Response({"attestation": str(attestation_id), "status": "confirmed"}, headers=_NO_STORE)


@get("/v1/operator/users/{user_id:uuid}/decisions", guards=[operator_only])
async def decision_history(
    *, user_id: FromPath[uuid.UUID], actor: Actor, conn: Transaction, now: Now
) -> Response[Any]:
    """Every token decision about the person — issued or denied, with audience, policy
    version, reasons and the evidence it named — for a compliance file. The export is
    itself audited (who took a person's history, and when)."""
    decisions = await export_decisions(conn, user_id, actor=actor, now=now)
    return Response(
        {"user": str(user_id), "decisions": decisions}, headers={"Cache-Control": "no-store"}
    )


routes = [
    user_attestations,
    reinstate,
    revoke,
    determine_most_recent_country,
    confirm_determination,
    decision_history,
]
