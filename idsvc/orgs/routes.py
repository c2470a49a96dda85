"""``/v1/orgs``: request an organisation, list one's own, and administer one's domains and
auto-join. Every route under ``/v1/orgs/{org_id}`` checks that the caller administers
*that* organisation (:func:`idsvc.orgs.access.require_org_admin`)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.params import FromPath

from idsvc.accounts.session_guard import require_session
from idsvc.db import Connection
from idsvc.http.body import read_json
from idsvc.http.openapi import documented
from idsvc.orgs.access import require_org_admin
from idsvc.orgs.dns_txt import DnsUnavailable, txt_values
from idsvc.orgs.domain_names import normalize_domain
from idsvc.orgs.domains import (
    check_domain,
    claim_domain,
    delete_domain,
    get_domain,
    list_domains,
    set_auto_join,
)
from idsvc.orgs.errors import ChallengeNotFound, DnsLookupFailed
from idsvc.orgs.organisations import (
    get_organisation,
    list_user_organisations,
)
from idsvc.orgs.request_flow import submit_request
from idsvc.orgs.requests import AutoJoinRequest, DomainRequest, OrgRequest
from idsvc.orgs.screening_hits import list_hits
from idsvc.orgs.state_rules import OrgAction
from idsvc.orgs.views import DomainView, OrgView, domain_view, org_view
from idsvc.runtime import Runtime, RuntimeDependency

__all__ = ["org_routes"]

_NO_STORE = {"Cache-Control": "no-store"}


@post("/v1/orgs", status_code=201, opt=documented(body=OrgRequest))
async def request_organisation(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[OrgView]:
    session = await require_session(request, runtime, changing=True)
    body = await read_json(request, OrgRequest)
    async with runtime.pool.acquire() as conn, conn.transaction():
        org, claimed = await submit_request(
            conn,
            body,
            requester=session.user_id,
            threshold=runtime.settings.config.screening.threshold,
            now=runtime.clock(),
        )
    return Response(org_view(org, domains=claimed), headers=_NO_STORE)


@get("/v1/orgs")
async def my_organisations(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[dict[str, Any]]:
    session = await require_session(request, runtime, changing=False)
    async with runtime.pool.acquire() as conn:
        organisations = await list_user_organisations(conn, session.user_id)
    return Response({"organisations": organisations}, headers=_NO_STORE)


async def _administer(
    conn: Connection, runtime: Runtime, org_id: uuid.UUID, user_id: uuid.UUID, action: OrgAction
) -> str:
    return await require_org_admin(
        conn,
        org_id=org_id,
        user_id=user_id,
        operators=runtime.settings.config.operators,
        action=action,
    )


@get("/v1/orgs/{org_id:uuid}")
async def organisation(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[OrgView]:
    session = await require_session(request, runtime, changing=False)
    async with runtime.pool.acquire() as conn:
        role = await _administer(conn, runtime, org_id, session.user_id, "read")
        org = await get_organisation(conn, org_id)
        domains = await list_domains(conn, org_id)
        hits = await list_hits(conn, [org_id]) if role == "operator" else None
    return Response(org_view(org, domains=domains, hits=hits), headers=_NO_STORE)


@post("/v1/orgs/{org_id:uuid}/domains", status_code=201, opt=documented(body=DomainRequest))
async def add_domain(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[DomainView]:
    session = await require_session(request, runtime, changing=True)
    body = await read_json(request, DomainRequest)
    domain = normalize_domain(body.domain)
    now = runtime.clock()
    async with runtime.pool.acquire() as conn, conn.transaction():
        await _administer(conn, runtime, org_id, session.user_id, "domains")
        claimed = await claim_domain(
            conn, org_id=org_id, domain=domain, actor=f"user:{session.user_id}", now=now
        )
    return Response(domain_view(claimed), headers=_NO_STORE)


@post("/v1/orgs/{org_id:uuid}/domains/{domain:str}/verify", status_code=200)
async def verify_domain(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    domain: FromPath[str],
    runtime: RuntimeDependency,
) -> Response[DomainView]:
    session = await require_session(request, runtime, changing=True)
    name = normalize_domain(domain)
    async with runtime.pool.acquire() as conn:
        await _administer(conn, runtime, org_id, session.user_id, "domains")
        claimed = await get_domain(conn, org_id, name)
    # The look-up runs outside any transaction: no row stays locked while DNS answers.
    try:
        published = await txt_values(claimed.record_name, runtime.settings.config.dns)
    except DnsUnavailable as exc:
        raise DnsLookupFailed(f"{exc}; nothing was changed") from None
    now = runtime.clock()
    async with runtime.pool.acquire() as conn, conn.transaction():
        await _administer(conn, runtime, org_id, session.user_id, "domains")
        checked = await check_domain(
            conn,
            org_id=org_id,
            domain=name,
            published=published,
            actor=f"user:{session.user_id}",
            now=now,
        )
    if checked.verified_at is None:
        # Raised after the commit: a domain that lost its proof stays unverified.
        raise ChallengeNotFound(
            f"no TXT record at {claimed.record_name} holds the challenge",
            record=claimed.record_name,
        )
    return Response(domain_view(checked), headers=_NO_STORE)


@delete("/v1/orgs/{org_id:uuid}/domains/{domain:str}", status_code=204)
async def remove_domain(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    domain: FromPath[str],
    runtime: RuntimeDependency,
) -> None:
    session = await require_session(request, runtime, changing=True)
    name = normalize_domain(domain)
    async with runtime.pool.acquire() as conn, conn.transaction():
        await _administer(conn, runtime, org_id, session.user_id, "domains")
        await delete_domain(
            conn, org_id=org_id, domain=name, actor=f"user:{session.user_id}", now=runtime.clock()
        )


@put("/v1/orgs/{org_id:uuid}/auto-join", status_code=200, opt=documented(body=AutoJoinRequest))
async def auto_join(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[dict[str, str]]:
    session = await require_session(request, runtime, changing=True)
    body = await read_json(request, AutoJoinRequest)
    async with runtime.pool.acquire() as conn, conn.transaction():
        await _administer(conn, runtime, org_id, session.user_id, "domains")
        await set_auto_join(
            conn,
            org_id=org_id,
            mode=body.mode,
            actor=f"user:{session.user_id}",
            now=runtime.clock(),
        )
    return Response({"auto_join": body.mode}, headers=_NO_STORE)


org_routes = [
    request_organisation,
    my_organisations,
    organisation,
    add_domain,
    verify_domain,
    remove_domain,
    auto_join,
]
