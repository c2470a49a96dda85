"""Operator API for attestations: read a user's attestations, revoke one with a reason.

Nationality and evidence are visible to operators only. State changes need the session
cookie and the CSRF header; the revocation and its audit event share one transaction.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from idsvc.accounts.operators import is_operator
from idsvc.accounts.sessions import SESSION_COOKIE, Session, csrf_valid, load_session
from idsvc.attestations.store import current_attestations, revoke_attestation
from idsvc.errors import Forbidden, NotFound, Unauthenticated
from idsvc.http.body import read_json
from idsvc.runtime import Runtime, RuntimeDependency

__all__ = ["operator_routes"]


class RevokeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=500)]


async def _operator(
    request: Request[Any, Any, Any], runtime: Runtime, *, changing: bool
) -> Session:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    async with runtime.pool.acquire() as conn:
        session = await load_session(
            conn,
            cookie,
            now=runtime.clock(),
            idle_timeout=runtime.settings.service.session_idle_timeout,
        )
        if session is None:
            raise Unauthenticated("sign in first")
        if not await is_operator(conn, session.user_id, runtime.settings.config.operators):
            raise Forbidden("operators only")
    if changing and not csrf_valid(session, request.headers.get("x-csrf-token")):
        raise Forbidden("missing or wrong X-CSRF-Token header", code="csrf_failed")
    return session


@get("/v1/operator/users/{user_id:uuid}/attestations")
async def user_attestations(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    await _operator(request, runtime, changing=False)
    async with runtime.pool.acquire() as conn:
        attestations = await current_attestations(conn, user_id)
    return Response({"attestations": attestations}, headers={"Cache-Control": "no-store"})


@post("/v1/operator/attestations/{attestation_id:uuid}/revoke", status_code=200)
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


operator_routes = [user_attestations, revoke]
