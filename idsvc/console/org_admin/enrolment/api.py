"""Org admin pages for how people arrive: SCIM tokens, domains (TXT challenge, verify,
remove) and auto-join."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.console.forms import read_form, validate_form
from idsvc.console.guard import form_csrf
from idsvc.console.org_admin.enrolment.service import claimed_domain, verify_domain
from idsvc.console.org_admin.guard import administers
from idsvc.console.org_admin.pages import (
    AutoJoinForm,
    DomainForm,
    GroupRoleForm,
    OrgAdminPages,
    TokenForm,
)
from idsvc.db.database import Database
from idsvc.errors import IdsvcError
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.orgs.domains.dns_txt import DnsUnavailable
from idsvc.orgs.domains.domain_names import normalize_domain
from idsvc.orgs.domains.service import claim_domain, delete_domain, set_auto_join
from idsvc.scim.groups import set_group_role
from idsvc.scim.tokens import create_token, revoke_token

__all__ = ["routes"]


@post(
    "/my-orgs/{org_id:uuid}/scim-tokens",
    include_in_schema=False,
    status_code=200,
    guards=[administers("enroll"), form_csrf],
)
async def new_scim_token(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
    now: Now,
) -> Template:
    data = await read_form(request)
    form, errors = validate_form(TokenForm, data)
    if form is None:
        return await org_pages.org_page(
            conn, org_id, status=400, errors=errors, values=data, failed="scim"
        )
    _token_id, token = await create_token(
        conn,
        org_id=org_id,
        label=form.label,
        created_by=org_pages.viewer.session.user_id,
        now=now,
    )
    return await org_pages.org_page(conn, org_id, new_token=token)


@post(
    "/my-orgs/{org_id:uuid}/scim-tokens/{token_id:uuid}/revoke",
    include_in_schema=False,
    status_code=303,
    guards=[administers("revoke_access"), form_csrf],
)
async def revoke_scim_token(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    token_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    await read_form(request)  # its fields are unused, but refused with control characters
    await revoke_token(conn, org_id=org_id, token_id=token_id, actor=actor, now=now)
    return Redirect(f"/console/my-orgs/{org_id}?done=token-revoked", status_code=303)


@post(
    "/my-orgs/{org_id:uuid}/scim-groups/{group_id:uuid}/role",
    include_in_schema=False,
    status_code=303,
    guards=[administers("enroll"), form_csrf],
)
async def group_role_page(
    *,
    org_id: FromPath[uuid.UUID],
    group_id: FromPath[uuid.UUID],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    form, problem = await org_pages.form_or_page(conn, org_id, struct=GroupRoleForm, failed="group")
    if problem is not None:
        return problem
    try:
        # A savepoint: a refused change leaves nothing of itself behind.
        async with conn.transaction():
            await set_group_role(
                conn,
                org_id,
                group_id,
                None if form.role == "none" else form.role,
                actor=actor,
                now=now,
            )
    except IdsvcError as exc:  # last_admin, or a group gone meanwhile
        return await org_pages.org_page(conn, org_id, status=exc.status, group_error=exc.detail)
    return Redirect(f"/console/my-orgs/{org_id}?done=group-role", status_code=303)


@post(
    "/my-orgs/{org_id:uuid}/domains",
    include_in_schema=False,
    status_code=303,
    guards=[administers("domains"), form_csrf],
)
async def add_domain_page(
    *,
    org_id: FromPath[uuid.UUID],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    form, problem = await org_pages.form_or_page(conn, org_id, struct=DomainForm, failed="domain")
    if problem is not None:
        return problem
    try:
        name = normalize_domain(form.domain)
        # A savepoint: a refused claim leaves nothing of itself behind.
        async with conn.transaction():
            await claim_domain(conn, org_id=org_id, domain=name, actor=actor, now=now)
    except IdsvcError as exc:
        return await org_pages.org_page(
            conn,
            org_id,
            status=exc.status,
            errors={"domain": exc.detail},
            values={"domain": form.domain},
            failed="domain",
        )
    return Redirect(f"/console/my-orgs/{org_id}?done=domain-added", status_code=303)


@post(
    "/my-orgs/{org_id:uuid}/domains/{domain:str}/verify",
    include_in_schema=False,
    status_code=303,
    guards=[administers("domains"), form_csrf],
)
async def verify_domain_page(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    domain: FromPath[str],
    org_pages: Injected[OrgAdminPages],
    database: Injected[Database],
    now: Now,
    actor: Actor,
) -> Response[Any]:
    """Outside the request's transaction: DNS is asked between reading the claim and
    recording the answer, and no connection or row is held while it answers."""
    await read_form(request)  # its fields are unused, but refused with control characters
    name = normalize_domain(domain)
    claimed = await claimed_domain(database, org_id, name)
    try:
        checked = await verify_domain(
            database,
            claimed,
            org_id=org_id,
            name=name,
            dns=org_pages.settings.config.dns,
            actor=actor,
            now=now,
        )
    except (DnsUnavailable, IdsvcError) as exc:
        message = exc.detail if isinstance(exc, IdsvcError) else f"DNS did not answer: {exc}"
        async with database.connection() as conn:
            return await org_pages.org_page(conn, org_id, status=409, domain_problem=message)
    outcome = "domain-verified" if checked.verified_at else "domain-not-verified"
    return Redirect(f"/console/my-orgs/{org_id}?done={outcome}", status_code=303)


@post(
    "/my-orgs/{org_id:uuid}/domains/{domain:str}/remove",
    include_in_schema=False,
    status_code=303,
    guards=[administers("domains"), form_csrf],
)
async def remove_domain_page(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    domain: FromPath[str],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    data = await read_form(request)
    if data.get("confirm") != "yes":
        return await org_pages.org_page(
            conn,
            org_id,
            status=400,
            domain_problem="Tick the box to confirm removing the domain.",
        )
    await delete_domain(conn, org_id=org_id, domain=normalize_domain(domain), actor=actor, now=now)
    return Redirect(f"/console/my-orgs/{org_id}?done=domain-removed", status_code=303)


@post(
    "/my-orgs/{org_id:uuid}/auto-join",
    include_in_schema=False,
    status_code=303,
    guards=[administers("domains"), form_csrf],
)
async def auto_join_page(
    *,
    org_id: FromPath[uuid.UUID],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    form, problem = await org_pages.form_or_page(
        conn, org_id, struct=AutoJoinForm, failed="auto_join"
    )
    if problem is not None:
        return problem
    try:
        # A savepoint: a refused change leaves nothing of itself behind.
        async with conn.transaction():
            await set_auto_join(conn, org_id=org_id, mode=form.mode, actor=actor, now=now)
    except IdsvcError as exc:
        return await org_pages.org_page(conn, org_id, status=exc.status, domain_problem=exc.detail)
    return Redirect(f"/console/my-orgs/{org_id}?done=auto-join-{form.mode}", status_code=303)


routes = [
    new_scim_token,
    revoke_scim_token,
    group_role_page,
    add_domain_page,
    verify_domain_page,
    remove_domain_page,
    auto_join_page,
]
