"""Org admin pages for how people arrive: SCIM tokens, domains (TXT challenge, verify,
remove) and auto-join."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.console.admin_common import (
    AutoJoinForm,
    DomainForm,
    GroupRoleForm,
    TokenForm,
    admin_viewer,
    form_or_page,
    org_page,
)
from idsvc.console.forms import read_form, validate_form
from idsvc.errors import IdsvcError
from idsvc.orgs.domains.dns_txt import DnsUnavailable, txt_values
from idsvc.orgs.domains.domain_names import normalize_domain
from idsvc.orgs.domains.service import (
    check_domain,
    claim_domain,
    delete_domain,
    get_domain,
    set_auto_join,
)
from idsvc.runtime import RuntimeDependency
from idsvc.scim.groups import set_group_role
from idsvc.scim.tokens import create_token, revoke_token

__all__ = ["settings_pages"]


@post("/my-orgs/{org_id:uuid}/scim-tokens", include_in_schema=False, status_code=200)
async def new_scim_token(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Template:
    seen = await admin_viewer(request, runtime, org_id, "enroll")
    data = await read_form(request, seen.session)
    form, errors = validate_form(TokenForm, data)
    if form is None:
        return await org_page(
            request, runtime, org_id, seen, status=400, errors=errors, values=data, failed="scim"
        )
    async with runtime.pool.acquire() as conn, conn.transaction():
        _token_id, token = await create_token(
            conn,
            org_id=org_id,
            label=form.label,
            created_by=seen.session.user_id,
            now=runtime.clock(),
        )
    return await org_page(request, runtime, org_id, seen, new_token=token)


@post(
    "/my-orgs/{org_id:uuid}/scim-tokens/{token_id:uuid}/revoke",
    include_in_schema=False,
    status_code=303,
)
async def revoke_scim_token(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    token_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> Response[Any]:
    seen = await admin_viewer(request, runtime, org_id, "revoke_access")
    await read_form(request, seen.session)
    async with runtime.pool.acquire() as conn, conn.transaction():
        await revoke_token(
            conn,
            org_id=org_id,
            token_id=token_id,
            actor=f"user:{seen.session.user_id}",
            now=runtime.clock(),
        )
    return Redirect(f"/console/my-orgs/{org_id}?done=token-revoked", status_code=303)


@post(
    "/my-orgs/{org_id:uuid}/scim-groups/{group_id:uuid}/role",
    include_in_schema=False,
    status_code=303,
)
async def group_role_page(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    group_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> Response[Any]:
    seen = await admin_viewer(request, runtime, org_id, "enroll")
    form, problem = await form_or_page(
        request, runtime, org_id, seen, struct=GroupRoleForm, failed="group"
    )
    if problem is not None:
        return problem
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            await set_group_role(
                conn,
                org_id,
                group_id,
                None if form.role == "none" else form.role,
                actor=f"user:{seen.session.user_id}",
                now=runtime.clock(),
            )
    except IdsvcError as exc:  # last_admin, or a group gone meanwhile
        return await org_page(
            request, runtime, org_id, seen, status=exc.status, group_error=exc.detail
        )
    return Redirect(f"/console/my-orgs/{org_id}?done=group-role", status_code=303)


@post("/my-orgs/{org_id:uuid}/domains", include_in_schema=False, status_code=303)
async def add_domain_page(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    seen = await admin_viewer(request, runtime, org_id, "domains")
    form, problem = await form_or_page(
        request, runtime, org_id, seen, struct=DomainForm, failed="domain"
    )
    if problem is not None:
        return problem
    try:
        name = normalize_domain(form.domain)
        async with runtime.pool.acquire() as conn, conn.transaction():
            await claim_domain(
                conn,
                org_id=org_id,
                domain=name,
                actor=f"user:{seen.session.user_id}",
                now=runtime.clock(),
            )
    except IdsvcError as exc:
        return await org_page(
            request,
            runtime,
            org_id,
            seen,
            status=exc.status,
            errors={"domain": exc.detail},
            values={"domain": form.domain},
            failed="domain",
        )
    return Redirect(f"/console/my-orgs/{org_id}?done=domain-added", status_code=303)


@post(
    "/my-orgs/{org_id:uuid}/domains/{domain:str}/verify", include_in_schema=False, status_code=303
)
async def verify_domain_page(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    domain: FromPath[str],
    runtime: RuntimeDependency,
) -> Response[Any]:
    seen = await admin_viewer(request, runtime, org_id, "domains")
    await read_form(request, seen.session)
    name = normalize_domain(domain)
    async with runtime.pool.acquire() as conn:
        claimed = await get_domain(conn, org_id, name)
    try:
        # DNS is asked outside any transaction: no row stays locked while it answers.
        published = await txt_values(claimed.record_name, runtime.settings.config.dns)
        async with runtime.pool.acquire() as conn, conn.transaction():
            checked = await check_domain(
                conn,
                org_id=org_id,
                domain=name,
                published=published,
                actor=f"user:{seen.session.user_id}",
                now=runtime.clock(),
            )
    except (DnsUnavailable, IdsvcError) as exc:
        message = exc.detail if isinstance(exc, IdsvcError) else f"DNS did not answer: {exc}"
        return await org_page(request, runtime, org_id, seen, status=409, domain_problem=message)
    outcome = "domain-verified" if checked.verified_at else "domain-not-verified"
    return Redirect(f"/console/my-orgs/{org_id}?done={outcome}", status_code=303)


@post(
    "/my-orgs/{org_id:uuid}/domains/{domain:str}/remove", include_in_schema=False, status_code=303
)
async def remove_domain_page(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    domain: FromPath[str],
    runtime: RuntimeDependency,
) -> Response[Any]:
    seen = await admin_viewer(request, runtime, org_id, "domains")
    data = await read_form(request, seen.session)
    if data.get("confirm") != "yes":
        return await org_page(
            request,
            runtime,
            org_id,
            seen,
            status=400,
            domain_problem="Tick the box to confirm removing the domain.",
        )
    async with runtime.pool.acquire() as conn, conn.transaction():
        await delete_domain(
            conn,
            org_id=org_id,
            domain=normalize_domain(domain),
            actor=f"user:{seen.session.user_id}",
            now=runtime.clock(),
        )
    return Redirect(f"/console/my-orgs/{org_id}?done=domain-removed", status_code=303)


@post("/my-orgs/{org_id:uuid}/auto-join", include_in_schema=False, status_code=303)
async def auto_join_page(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    seen = await admin_viewer(request, runtime, org_id, "domains")
    form, problem = await form_or_page(
        request, runtime, org_id, seen, struct=AutoJoinForm, failed="auto_join"
    )
    if problem is not None:
        return problem
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            await set_auto_join(
                conn,
                org_id=org_id,
                mode=form.mode,
                actor=f"user:{seen.session.user_id}",
                now=runtime.clock(),
            )
    except IdsvcError as exc:
        return await org_page(
            request, runtime, org_id, seen, status=exc.status, domain_problem=exc.detail
        )
    return Redirect(f"/console/my-orgs/{org_id}?done=auto-join-{form.mode}", status_code=303)


settings_pages = [
    new_scim_token,
    revoke_scim_token,
    group_role_page,
    add_domain_page,
    verify_domain_page,
    remove_domain_page,
    auto_join_page,
]
