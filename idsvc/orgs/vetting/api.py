"""Requesting an organisation and vetting it over HTTP.

``/v1/orgs``: a signed-in person requests an organisation and lists their own;
``/v1/orgs/{org_id}``: its admins (and operators) read it. ``/v1/operator/orgs``: the
vetting queue and the operators' decisions on organisations (status, programs, screening
and its hits), each audited with its reason in the transaction that makes it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, get_args

from litestar import Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from idsvc.accounts.guards import operator_only, signed_in
from idsvc.accounts.sessions import Session
from idsvc.errors import BadRequest
from idsvc.four_eyes.service import FourEyes, Proposed
from idsvc.http.body import read_json
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.openapi import documented
from idsvc.orgs.access import OrgRole
from idsvc.orgs.domains.service import list_domains
from idsvc.orgs.guards import org_admin
from idsvc.orgs.records import OrgStatus
from idsvc.orgs.vetting.organisations import (
    get_organisation,
    list_organisations,
    list_user_organisations,
    set_org_programs,
    set_org_status,
)
from idsvc.orgs.vetting.requests import OrgRequest, OverrideRequest, ProgramsRequest, StatusRequest
from idsvc.orgs.vetting.screening_hits import (
    Hit,
    ScreeningOutcome,
    list_hits,
    override_hit,
    screen_organisation,
)
from idsvc.orgs.vetting.service import submit_request
from idsvc.orgs.vetting.views import OrgView, org_view
from idsvc.settings import Settings

__all__ = ["routes"]

_NO_STORE = {"Cache-Control": "no-store"}
_STATUSES = frozenset(get_args(OrgStatus))


@post("/v1/orgs", status_code=201, guards=[signed_in], opt=documented(body=OrgRequest))
async def request_organisation(
    *,
    request: Request[Any, Any, Any],
    session: Injected[Session],
    settings: Injected[Settings],
    conn: Transaction,
    now: Now,
) -> Response[OrgView]:
    body = await read_json(request, OrgRequest)
    org, claimed = await submit_request(
        conn,
        body,
        requester=session.user_id,
        threshold=settings.config.screening.threshold,
        now=now,
    )
    return Response(org_view(org, domains=claimed), headers=_NO_STORE)


@get("/v1/orgs", guards=[signed_in])
async def my_organisations(
    *, session: Injected[Session], conn: Transaction
) -> Response[dict[str, Any]]:
    organisations = await list_user_organisations(conn, session.user_id)
    return Response({"organisations": organisations}, headers=_NO_STORE)


@get("/v1/orgs/{org_id:uuid}", guards=[org_admin("read")])
async def organisation(
    *, org_id: FromPath[uuid.UUID], org_role: Injected[OrgRole], conn: Transaction
) -> Response[OrgView]:
    org = await get_organisation(conn, org_id)
    domains = await list_domains(conn, org_id)
    # Screening hits are the operators' business, not the organisation's.
    hits = await list_hits(conn, [org_id]) if org_role == "operator" else None
    return Response(org_view(org, domains=domains, hits=hits), headers=_NO_STORE)


@get("/v1/operator/orgs", guards=[operator_only])
async def queue(
    *,
    conn: Transaction,
    status: Annotated[str | None, QueryParameter(max_length=20)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> Response[dict[str, list[OrgView]]]:
    """Organisations (``?status=pending`` for the queue), each with its open hits."""
    if status is not None and status not in _STATUSES:
        raise BadRequest(f"status: one of {', '.join(sorted(_STATUSES))}")
    organisations = await list_organisations(conn, status=status, limit=limit)  # type: ignore[arg-type]
    hits = await list_hits(conn, [o.id for o in organisations], state="open")
    by_org: dict[uuid.UUID, list[Hit]] = {}
    for hit in hits:
        by_org.setdefault(hit.org_id, []).append(hit)
    return Response(
        {"organisations": [org_view(o, hits=by_org.get(o.id, [])) for o in organisations]},
        headers=_NO_STORE,
    )


@post(
    "/v1/operator/orgs/{org_id:uuid}/status",
    status_code=200,
    guards=[operator_only],
    opt=documented(body=StatusRequest),
)
async def change_status(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    settings: Injected[Settings],
    four_eyes: Injected[FourEyes],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[OrgView | Proposed]:
    """Approve, reject, suspend or reinstate. Approving and reinstating take four eyes: the
    first operator's call proposes (202), a second operator's call with the same status
    decides (200); neither may be the requester or an admin of the organisation."""
    body = await read_json(request, StatusRequest)
    org = await set_org_status(
        conn,
        org_id=org_id,
        status=body.status,
        reason=body.reason,
        actor=actor,
        now=now,
        four_eyes=settings.config.screening.four_eyes_approval,
        rule=four_eyes,
        list_max_age=settings.config.screening.list_max_age,
    )
    if isinstance(org, Proposed):
        return Response(org, status_code=202, headers=_NO_STORE)
    return Response(org_view(org), headers=_NO_STORE)


@post(
    "/v1/operator/orgs/{org_id:uuid}/programs",
    status_code=200,
    guards=[operator_only],
    opt=documented(body=ProgramsRequest),
)
async def change_programs(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    settings: Injected[Settings],
    four_eyes: Injected[FourEyes],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[OrgView | Proposed]:
    """Set the programs granted. Granting one takes four eyes (202, then 200 for a second
    operator asking for the same programs); taking programs away does not."""
    body = await read_json(request, ProgramsRequest)
    org = await set_org_programs(
        conn,
        org_id=org_id,
        programs=body.programs,
        reason=body.reason,
        actor=actor,
        now=now,
        rule=four_eyes,
        list_max_age=settings.config.screening.list_max_age,
    )
    if isinstance(org, Proposed):
        return Response(org, status_code=202, headers=_NO_STORE)
    return Response(org_view(org), headers=_NO_STORE)


@post("/v1/operator/orgs/{org_id:uuid}/screen", status_code=200, guards=[operator_only])
async def screen(
    *,
    org_id: FromPath[uuid.UUID],
    settings: Injected[Settings],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[ScreeningOutcome]:
    org = await get_organisation(conn, org_id)
    outcome = await screen_organisation(
        conn, org, threshold=settings.config.screening.threshold, actor=actor, now=now
    )
    return Response(outcome, headers=_NO_STORE)


@post(
    "/v1/operator/orgs/{org_id:uuid}/screening-hits/{hit_id:uuid}/override",
    status_code=200,
    guards=[operator_only],
    opt=documented(body=OverrideRequest),
)
async def override(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    hit_id: FromPath[uuid.UUID],
    settings: Injected[Settings],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Hit]:
    body = await read_json(request, OverrideRequest)
    if len(body.justification.strip()) < 20:
        raise BadRequest("justification: explain the decision in at least 20 characters")
    hit = await override_hit(
        conn,
        org_id=org_id,
        hit_id=hit_id,
        justification=body.justification.strip(),
        actor=actor,
        now=now,
        validity=timedelta(seconds=settings.config.screening.override_validity),
    )
    return Response(hit, headers=_NO_STORE)


routes = [
    request_organisation,
    my_organisations,
    organisation,
    queue,
    change_status,
    change_programs,
    screen,
    override,
]
