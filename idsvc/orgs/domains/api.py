"""``/v1/orgs/{org_id}/domains`` and ``/auto-join``: an organisation's admins claim domains,
prove them by a DNS TXT record, remove them, and choose how people with a matching
verified address join. Every route checks that the caller administers *that*
organisation and that its state allows domain changes (``org_admin("domains")``)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import msgspec
from litestar import Request, Response, delete, post, put
from litestar.params import FromPath

from idsvc.accounts.sessions import Session
from idsvc.db.database import Database
from idsvc.http.body import read_json
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.openapi import documented
from idsvc.orgs.access import require_org_admin
from idsvc.orgs.domains.dns_txt import DnsUnavailable, txt_values
from idsvc.orgs.domains.domain_names import DomainText, normalize_domain
from idsvc.orgs.domains.errors import ChallengeNotFound, DnsLookupFailed
from idsvc.orgs.domains.service import (
    check_domain,
    claim_domain,
    delete_domain,
    get_domain,
    set_auto_join,
)
from idsvc.orgs.domains.views import DomainView, domain_view
from idsvc.orgs.guards import org_admin
from idsvc.settings import Settings

__all__ = ["routes"]

_NO_STORE = {"Cache-Control": "no-store"}


class DomainRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    domain: DomainText


class AutoJoinRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mode: Literal["off", "pending", "active"]


@post(
    "/v1/orgs/{org_id:uuid}/domains",
    status_code=201,
    guards=[org_admin("domains")],
    opt=documented(body=DomainRequest),
)
async def add_domain(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[DomainView]:
    body = await read_json(request, DomainRequest)
    domain = normalize_domain(body.domain)
    claimed = await claim_domain(conn, org_id=org_id, domain=domain, actor=actor, now=now)
    return Response(domain_view(claimed), headers=_NO_STORE)


@post(
    "/v1/orgs/{org_id:uuid}/domains/{domain:str}/verify",
    status_code=200,
    guards=[org_admin("domains")],
)
async def verify_domain(
    *,
    org_id: FromPath[uuid.UUID],
    domain: FromPath[str],
    session: Injected[Session],
    settings: Injected[Settings],
    database: Injected[Database],
    now: Now,
    actor: Actor,
) -> Response[DomainView]:
    name = normalize_domain(domain)
    # Two transactions around the DNS look-up, which runs outside any: no row stays locked
    # and no pooled connection is held while DNS answers.
    async with database.connection() as conn:
        claimed = await get_domain(conn, org_id, name)
    try:
        published = await txt_values(claimed.record_name, settings.config.dns)
    except DnsUnavailable as exc:
        raise DnsLookupFailed(f"{exc}; nothing was changed") from None
    async with database.transaction() as conn:
        # Asked again: the caller's role or the organisation's state may have changed
        # while DNS answered.
        await require_org_admin(
            conn,
            org_id=org_id,
            user_id=session.user_id,
            operators=settings.config.operators,
            action="domains",
        )
        checked = await check_domain(
            conn, org_id=org_id, domain=name, published=published, actor=actor, now=now
        )
        if checked.verified_at is None:
            # An audited refusal: the transaction commits, so a domain that lost its proof
            # stays unverified.
            raise ChallengeNotFound(
                f"no TXT record at {claimed.record_name} holds the challenge",
                record=claimed.record_name,
            )
    return Response(domain_view(checked), headers=_NO_STORE)


@delete(
    "/v1/orgs/{org_id:uuid}/domains/{domain:str}",
    status_code=204,
    guards=[org_admin("domains")],
)
async def remove_domain(
    *,
    org_id: FromPath[uuid.UUID],
    domain: FromPath[str],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> None:
    name = normalize_domain(domain)
    await delete_domain(conn, org_id=org_id, domain=name, actor=actor, now=now)


@put(
    "/v1/orgs/{org_id:uuid}/auto-join",
    status_code=200,
    guards=[org_admin("domains")],
    opt=documented(body=AutoJoinRequest),
)
async def auto_join(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[dict[str, str]]:
    body = await read_json(request, AutoJoinRequest)
    await set_auto_join(conn, org_id=org_id, mode=body.mode, actor=actor, now=now)
    return Response({"auto_join": body.mode}, headers=_NO_STORE)


routes = [add_domain, verify_domain, remove_domain, auto_join]
