"""Pages for organisation admins: request an organisation, and for each organisation they
administer: its state, members (search, pages, eligibility per audience — never
nationality), member actions with confirmation, invitations, CSV upload with a preview,
SCIM tokens and the organisation's own audit trail. Authorisation is the API's:
``require_org_admin`` on every page and form."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.accounts.sessions import csrf_valid
from idsvc.console.audit_query import AuditFilter, find_events
from idsvc.console.forms import read_form, validate_form
from idsvc.console.guard import Viewer, viewer
from idsvc.errors import BadRequest, Forbidden, IdsvcError
from idsvc.orgs.access import require_org_admin
from idsvc.orgs.csv_import import apply_import, parse_members_csv, plan_import
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
from idsvc.orgs.invitation_routes import send_invitations
from idsvc.orgs.member_list import MemberQuery, list_members
from idsvc.orgs.members import set_member_role, set_member_status
from idsvc.orgs.organisations import get_organisation, list_user_organisations
from idsvc.orgs.request_flow import submit_request
from idsvc.orgs.requests import OrgRequest
from idsvc.runtime import Runtime, RuntimeDependency
from idsvc.scim.tokens import create_token, list_tokens, revoke_token
from idsvc.web.pages import page

__all__ = ["admin_pages"]

MAX_CSV_BYTES = 8 * 1024 * 1024


class RequestForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    legal_name: Annotated[str, msgspec.Meta(min_length=2, max_length=300)]
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=3)]
    contact_email: Annotated[
        str, msgspec.Meta(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    ]
    domains: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    programs: Annotated[str, msgspec.Meta(max_length=500, pattern=r"^[a-z0-9, -]*$")] = ""


class MemberAction(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    status: Literal["active", "suspended", "removed"]
    # Destructive actions need the box ticked: a second, deliberate step.
    confirm: Literal["yes"] | None = None


class RoleForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: Literal["admin", "member"]


class TokenForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


async def _context(runtime: Runtime, seen: Viewer) -> dict[str, Any]:
    async with runtime.pool.acquire() as conn:
        mine = await list_user_organisations(conn, seen.session.user_id)
    admin_of = [o for o in mine if o.role == "admin" and o.member_status == "active"]
    return {
        **seen.page_context(),
        "console_orgs": [{"id": o.id, "legal_name": o.legal_name} for o in admin_of],
        "mine": mine,
    }


@get("/my-orgs", include_in_schema=False)
async def my_orgs(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Template:
    seen = await viewer(request, runtime)
    return page(
        "console/my_orgs.html",
        title="Your organisations",
        section="my-orgs",
        errors={},
        values={},
        **await _context(runtime, seen),
    )


@post("/my-orgs", include_in_schema=False, status_code=303)
async def request_org(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[Any]:
    seen = await viewer(request, runtime)
    data = await read_form(request, seen.session)
    form, errors = validate_form(RequestForm, data)
    org_id = None
    if form is not None:
        try:
            body = msgspec.convert(
                {
                    "legal_name": form.legal_name,
                    "country": form.country,
                    "contact_email": form.contact_email,
                    "domains": _split(form.domains),
                    "programs_requested": _split(form.programs),
                },
                OrgRequest,
            )
            async with runtime.pool.acquire() as conn, conn.transaction():
                org, _claimed = await submit_request(
                    conn,
                    body,
                    requester=seen.session.user_id,
                    threshold=runtime.settings.config.screening.threshold,
                    now=runtime.clock(),
                )
            org_id = org.id
        except msgspec.ValidationError as exc:
            errors = {"_form": str(exc)}
        except IdsvcError as exc:
            errors = {"_form": exc.detail}
    if org_id is None:
        return page(
            "console/my_orgs.html",
            title="Your organisations",
            section="my-orgs",
            status=400,
            errors=errors,
            values=data,
            **await _context(runtime, seen),
        )
    return Redirect(f"/console/my-orgs/{org_id}", status_code=303)


async def _admin(request: Request[Any, Any, Any], runtime: Runtime, org_id: uuid.UUID) -> Viewer:
    seen = await viewer(request, runtime)
    async with runtime.pool.acquire() as conn:
        await require_org_admin(
            conn,
            org_id=org_id,
            user_id=seen.session.user_id,
            operators=runtime.settings.config.operators,
        )
    return seen


async def _org_page(
    request: Request[Any, Any, Any], runtime: Runtime, org_id: uuid.UUID, seen: Viewer, **extra: Any
) -> Template:
    raw = {
        k: v for k, v in request.query_params.items() if k in ("q", "after") and isinstance(v, str)
    }
    query = MemberQuery(q=raw.get("q", "")[:320], after=raw.get("after") or None, limit=50)
    async with runtime.pool.acquire() as conn:
        org = await get_organisation(conn, org_id)
        members = await list_members(
            conn, org_id, query, policies=runtime.policies, now=runtime.clock()
        )
        tokens = await list_tokens(conn, org_id)
        domains = await list_domains(conn, org_id)
    return page(
        "console/my_org.html",
        title=org.legal_name,
        section=f"org-{org_id}",
        status=extra.pop("status", 200),
        org=org,
        members=members,
        q=query.q,
        tokens=tokens,
        domains=domains,
        scim_base=f"{runtime.settings.service.issuer}/scim/v2",
        errors=extra.pop("errors", {}),
        values=extra.pop("values", {}),
        **extra,
        **await _context(runtime, seen),
    )


@get("/my-orgs/{org_id:uuid}", include_in_schema=False)
async def my_org(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Template:
    seen = await _admin(request, runtime, org_id)
    return await _org_page(request, runtime, org_id, seen, done=request.query_params.get("done"))


@post(
    "/my-orgs/{org_id:uuid}/members/{membership_id:uuid}/status",
    include_in_schema=False,
    status_code=303,
)
async def member_status(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> Response[Any]:
    seen = await _admin(request, runtime, org_id)
    form, errors = validate_form(MemberAction, await read_form(request, seen.session))
    if form is not None and form.status != "active" and form.confirm != "yes":
        errors = {"confirm": "Tick the box to confirm."}
    if form is None or errors:
        return await _org_page(
            request, runtime, org_id, seen, status=400, errors=errors, failed=str(membership_id)
        )
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            await set_member_status(
                conn,
                org_id=org_id,
                membership_id=membership_id,
                status=form.status,
                actor=f"user:{seen.session.user_id}",
                now=runtime.clock(),
                reason="console",
            )
    except IdsvcError as exc:
        if exc.status == 404:
            raise
        return await _org_page(
            request,
            runtime,
            org_id,
            seen,
            status=exc.status,
            errors={"confirm": exc.detail},
            failed=str(membership_id),
        )
    return Redirect(f"/console/my-orgs/{org_id}?done={form.status}", status_code=303)


async def _csv_text(request: Request[Any, Any, Any], seen: Viewer) -> str:
    form = await request.form()
    token = form.get("csrf_token")
    if not csrf_valid(seen.session, token if isinstance(token, str) else None):
        raise Forbidden(
            "the form is stale or came from another site; reload the page", code="csrf_failed"
        )
    upload, pasted = form.get("file"), form.get("csv")
    raw = (
        await upload.read()
        if isinstance(upload, UploadFile)
        else (pasted or "").encode()
        if isinstance(pasted, str)
        else b""
    )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the file must be UTF-8 text", code="invalid_csv") from None


@post(
    "/my-orgs/{org_id:uuid}/import",
    include_in_schema=False,
    status_code=200,
    request_max_body_size=MAX_CSV_BYTES,
)
async def import_preview(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Template:
    """First step: the file is checked and compared with the members; nothing is applied."""
    seen = await _admin(request, runtime, org_id)
    text = await _csv_text(request, seen)
    rows, errors = parse_members_csv(text)
    plan = None
    if not errors:
        async with runtime.pool.acquire() as conn:
            plan = await plan_import(conn, org_id, rows)
    return page(
        "console/import.html",
        title="CSV import",
        section=f"org-{org_id}",
        status=422 if errors else 200,
        org_id=org_id,
        row_errors=errors,
        plan=plan,
        csv=text,
        **await _context(runtime, seen),
    )


@post(
    "/my-orgs/{org_id:uuid}/import/apply",
    include_in_schema=False,
    status_code=303,
    request_max_body_size=MAX_CSV_BYTES,
)
async def import_apply(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    seen = await _admin(request, runtime, org_id)
    rows, errors = parse_members_csv(await _csv_text(request, seen))
    if errors:
        raise BadRequest("the file has errors: upload it again to see them", code="invalid_csv")
    async with runtime.pool.acquire() as conn, conn.transaction():
        plan = await plan_import(conn, org_id, rows)
        await apply_import(
            conn, org_id, plan, actor=f"user:{seen.session.user_id}", now=runtime.clock()
        )
    return Redirect(f"/console/my-orgs/{org_id}?done=imported", status_code=303)


@post("/my-orgs/{org_id:uuid}/scim-tokens", include_in_schema=False, status_code=200)
async def new_scim_token(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Template:
    seen = await _admin(request, runtime, org_id)
    data = await read_form(request, seen.session)
    form, errors = validate_form(TokenForm, data)
    if form is None:
        return await _org_page(
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
    return await _org_page(request, runtime, org_id, seen, new_token=token)


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
    seen = await _admin(request, runtime, org_id)
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


@get("/my-orgs/{org_id:uuid}/audit", include_in_schema=False)
async def org_audit(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Template:
    """The organisation's own trail: events whose target is the organisation."""
    seen = await _admin(request, runtime, org_id)
    action = str(request.query_params.get("action", ""))[:100]
    async with runtime.pool.acquire() as conn:
        org = await get_organisation(conn, org_id)
        events = await find_events(
            conn, AuditFilter(target=f"org:{org_id}", action=action), limit=200
        )
    return page(
        "console/org_audit.html",
        title=f"{org.legal_name}: audit trail",
        section=f"org-{org_id}",
        org=org,
        events=events,
        action=action,
        **await _context(runtime, seen),
    )


class DomainForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    domain: Annotated[str, msgspec.Meta(min_length=3, max_length=253)]


class AutoJoinForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mode: Literal["off", "pending", "active"]


class InviteForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    emails: Annotated[str, msgspec.Meta(min_length=3, max_length=50_000)]
    role: Literal["member", "admin"] = "member"


async def _form_or_page(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    org_id: uuid.UUID,
    seen: Viewer,
    *,
    struct: Any,
    failed: str,
) -> tuple[Any, Template | None]:
    data = await read_form(request, seen.session)
    form, errors = validate_form(struct, data)
    if form is None:
        page_ = await _org_page(
            request, runtime, org_id, seen, status=400, errors=errors, values=data, failed=failed
        )
        return None, page_
    return form, None


@post(
    "/my-orgs/{org_id:uuid}/members/{membership_id:uuid}/role",
    include_in_schema=False,
    status_code=303,
)
async def member_role(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> Response[Any]:
    seen = await _admin(request, runtime, org_id)
    form, problem = await _form_or_page(
        request, runtime, org_id, seen, struct=RoleForm, failed=str(membership_id)
    )
    if problem is not None:
        return problem
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            await set_member_role(
                conn,
                org_id=org_id,
                membership_id=membership_id,
                role=form.role,
                actor=f"user:{seen.session.user_id}",
                now=runtime.clock(),
            )
    except IdsvcError as exc:
        if exc.status == 404:
            raise
        return await _org_page(
            request,
            runtime,
            org_id,
            seen,
            status=exc.status,
            errors={"confirm": exc.detail},
            failed=str(membership_id),
        )
    return Redirect(f"/console/my-orgs/{org_id}?done=role-{form.role}", status_code=303)


@post("/my-orgs/{org_id:uuid}/domains", include_in_schema=False, status_code=303)
async def add_domain_page(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    seen = await _admin(request, runtime, org_id)
    form, problem = await _form_or_page(
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
        return await _org_page(
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
    seen = await _admin(request, runtime, org_id)
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
        return await _org_page(request, runtime, org_id, seen, status=409, domain_problem=message)
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
    seen = await _admin(request, runtime, org_id)
    data = await read_form(request, seen.session)
    if data.get("confirm") != "yes":
        return await _org_page(
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
    seen = await _admin(request, runtime, org_id)
    form, problem = await _form_or_page(
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
        return await _org_page(
            request, runtime, org_id, seen, status=exc.status, domain_problem=exc.detail
        )
    return Redirect(f"/console/my-orgs/{org_id}?done=auto-join-{form.mode}", status_code=303)


@post("/my-orgs/{org_id:uuid}/invitations", include_in_schema=False, status_code=200)
async def invite_page(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Template:
    """The same invitations as the API: one single-use code per address, sent after commit."""
    seen = await _admin(request, runtime, org_id)
    form, problem = await _form_or_page(
        request, runtime, org_id, seen, struct=InviteForm, failed="invite"
    )
    if problem is not None:
        return problem
    try:
        outcomes = await send_invitations(
            runtime,
            org_id,
            _split(form.emails),
            role=form.role,
            invited_by=seen.session.user_id,
        )
    except IdsvcError as exc:
        message = "E-mail is not configured on this service." if exc.status == 503 else exc.detail
        return await _org_page(
            request,
            runtime,
            org_id,
            seen,
            status=exc.status,
            errors={"emails": message},
            values={"emails": form.emails},
            failed="invite",
        )
    return await _org_page(request, runtime, org_id, seen, invited=outcomes)


admin_pages = [
    member_role,
    add_domain_page,
    verify_domain_page,
    remove_domain_page,
    auto_join_page,
    invite_page,
    my_orgs,
    request_org,
    my_org,
    member_status,
    import_preview,
    import_apply,
    new_scim_token,
    revoke_scim_token,
    org_audit,
]
