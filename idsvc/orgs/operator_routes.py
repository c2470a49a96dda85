"""``/v1/operator/orgs``: the vetting queue and the operators' decisions on organisations
(status, programs, screening and its hits). Operators only; each decision is audited with
its reason in the transaction that makes it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, get_args

from litestar import Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from idsvc.accounts.operators import is_operator
from idsvc.accounts.session_guard import require_session
from idsvc.accounts.sessions import Session
from idsvc.errors import BadRequest, Forbidden
from idsvc.http.body import read_json
from idsvc.http.openapi import documented
from idsvc.orgs.organisations import (
    get_organisation,
    list_organisations,
    set_org_programs,
    set_org_status,
)
from idsvc.orgs.records import OrgStatus
from idsvc.orgs.requests import OverrideRequest, ProgramsRequest, StatusRequest
from idsvc.orgs.screening_hits import (
    Hit,
    ScreeningOutcome,
    list_hits,
    override_hit,
    screen_organisation,
)
from idsvc.orgs.views import OrgView, org_view
from idsvc.runtime import Runtime, RuntimeDependency

__all__ = ["operator_org_routes"]

_NO_STORE = {"Cache-Control": "no-store"}
_STATUSES = frozenset(get_args(OrgStatus))


async def _operator(
    request: Request[Any, Any, Any], runtime: Runtime, *, changing: bool
) -> Session:
    session = await require_session(request, runtime, changing=changing)
    async with runtime.pool.acquire() as conn:
        if not await is_operator(conn, session.user_id, runtime.settings.config.operators):
            raise Forbidden("operators only")
    return session


@get("/v1/operator/orgs")
async def queue(
    request: Request[Any, Any, Any],
    runtime: RuntimeDependency,
    status: Annotated[str | None, QueryParameter(max_length=20)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> Response[dict[str, list[OrgView]]]:
    """Organisations (``?status=pending`` for the queue), each with its open hits."""
    await _operator(request, runtime, changing=False)
    if status is not None and status not in _STATUSES:
        raise BadRequest(f"status: one of {', '.join(sorted(_STATUSES))}")
    async with runtime.pool.acquire() as conn:
        organisations = await list_organisations(conn, status=status, limit=limit)  # type: ignore[arg-type]
        hits = await list_hits(conn, [o.id for o in organisations], state="open")
    by_org: dict[uuid.UUID, list[Hit]] = {}
    for hit in hits:
        by_org.setdefault(hit.org_id, []).append(hit)
    return Response(
        {"organisations": [org_view(o, hits=by_org.get(o.id, [])) for o in organisations]},
        headers=_NO_STORE,
    )


@post("/v1/operator/orgs/{org_id:uuid}/status", status_code=200, opt=documented(body=StatusRequest))
async def change_status(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[OrgView]:
    session = await _operator(request, runtime, changing=True)
    body = await read_json(request, StatusRequest)
    async with runtime.pool.acquire() as conn, conn.transaction():
        org = await set_org_status(
            conn,
            org_id=org_id,
            status=body.status,
            reason=body.reason,
            actor=f"user:{session.user_id}",
            now=runtime.clock(),
            four_eyes=runtime.settings.config.screening.four_eyes_approval,
            list_max_age=runtime.settings.config.screening.list_max_age,
        )
    return Response(org_view(org), headers=_NO_STORE)


@post(
    "/v1/operator/orgs/{org_id:uuid}/programs",
    status_code=200,
    opt=documented(body=ProgramsRequest),
)
async def change_programs(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[OrgView]:
    session = await _operator(request, runtime, changing=True)
    body = await read_json(request, ProgramsRequest)
    async with runtime.pool.acquire() as conn, conn.transaction():
        org = await set_org_programs(
            conn,
            org_id=org_id,
            programs=body.programs,
            reason=body.reason,
            actor=f"user:{session.user_id}",
            now=runtime.clock(),
            list_max_age=runtime.settings.config.screening.list_max_age,
        )
    return Response(org_view(org), headers=_NO_STORE)


@post("/v1/operator/orgs/{org_id:uuid}/screen", status_code=200)
async def screen(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[ScreeningOutcome]:
    session = await _operator(request, runtime, changing=True)
    async with runtime.pool.acquire() as conn, conn.transaction():
        org = await get_organisation(conn, org_id)
        outcome = await screen_organisation(
            conn,
            org,
            threshold=runtime.settings.config.screening.threshold,
            actor=f"user:{session.user_id}",
            now=runtime.clock(),
        )
    return Response(outcome, headers=_NO_STORE)


@post(
    "/v1/operator/orgs/{org_id:uuid}/screening-hits/{hit_id:uuid}/override",
    status_code=200,
    opt=documented(body=OverrideRequest),
)
async def override(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    hit_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> Response[Hit]:
    session = await _operator(request, runtime, changing=True)
    body = await read_json(request, OverrideRequest)
    if len(body.justification.strip()) < 20:
        raise BadRequest("justification: explain the decision in at least 20 characters")
    async with runtime.pool.acquire() as conn, conn.transaction():
        hit = await override_hit(
            conn,
            org_id=org_id,
            hit_id=hit_id,
            justification=body.justification.strip(),
            actor=f"user:{session.user_id}",
            now=runtime.clock(),
            validity=timedelta(seconds=runtime.settings.config.screening.override_validity),
        )
    return Response(hit, headers=_NO_STORE)


operator_org_routes = [queue, change_status, change_programs, screen, override]
