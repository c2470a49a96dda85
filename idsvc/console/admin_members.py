"""Org admin pages for members: state and role changes, CSV upload with a preview, and
invitations by e-mail."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.console.admin_common import (
    MAX_CSV_BYTES,
    InviteForm,
    MemberAction,
    RoleForm,
    admin_context,
    admin_viewer,
    csv_text,
    form_or_page,
    org_page,
    split_list,
)
from idsvc.console.forms import read_form, validate_form
from idsvc.errors import IdsvcError, InvalidCsvRequest
from idsvc.http.pages import page
from idsvc.orgs.enrolment.service import apply_import, parse_members_csv, plan_import
from idsvc.orgs.invitations.sending import send_invitations
from idsvc.orgs.members.service import set_member_role, set_member_status
from idsvc.runtime import RuntimeDependency

__all__ = ["member_pages"]


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
    seen = await admin_viewer(request, runtime, org_id, "enroll")
    form, errors = validate_form(MemberAction, await read_form(request, seen.session))
    if form is not None and form.status != "active" and form.confirm != "yes":
        errors = {"confirm": "Tick the box to confirm."}
    if form is None or errors:
        return await org_page(
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
        return await org_page(
            request,
            runtime,
            org_id,
            seen,
            status=exc.status,
            errors={"confirm": exc.detail},
            failed=str(membership_id),
        )
    return Redirect(f"/console/my-orgs/{org_id}?done={form.status}", status_code=303)


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
    seen = await admin_viewer(request, runtime, org_id, "enroll")
    form, problem = await form_or_page(
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
        return await org_page(
            request,
            runtime,
            org_id,
            seen,
            status=exc.status,
            errors={"confirm": exc.detail},
            failed=str(membership_id),
        )
    return Redirect(f"/console/my-orgs/{org_id}?done=role-{form.role}", status_code=303)


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
    seen = await admin_viewer(request, runtime, org_id, "enroll")
    text = await csv_text(request, seen)
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
        **await admin_context(runtime, seen),
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
    seen = await admin_viewer(request, runtime, org_id, "enroll")
    rows, errors = parse_members_csv(await csv_text(request, seen))
    if errors:
        raise InvalidCsvRequest("the file has errors: upload it again to see them")
    async with runtime.pool.acquire() as conn, conn.transaction():
        plan = await plan_import(conn, org_id, rows)
        await apply_import(
            conn, org_id, plan, actor=f"user:{seen.session.user_id}", now=runtime.clock()
        )
    return Redirect(f"/console/my-orgs/{org_id}?done=imported", status_code=303)


@post("/my-orgs/{org_id:uuid}/invitations", include_in_schema=False, status_code=200)
async def invite_page(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Template:
    """The same invitations as the API: one single-use code per address, sent after commit."""
    seen = await admin_viewer(request, runtime, org_id, "enroll")
    form, problem = await form_or_page(
        request, runtime, org_id, seen, struct=InviteForm, failed="invite"
    )
    if problem is not None:
        return problem
    try:
        outcomes = await send_invitations(
            runtime,
            org_id,
            split_list(form.emails),
            role=form.role,
            invited_by=seen.session.user_id,
        )
    except IdsvcError as exc:
        message = "E-mail is not configured on this service." if exc.status == 503 else exc.detail
        return await org_page(
            request,
            runtime,
            org_id,
            seen,
            status=exc.status,
            errors={"emails": message},
            values={"emails": form.emails},
            failed="invite",
        )
    return await org_page(request, runtime, org_id, seen, invited=outcomes)


member_pages = [member_status, member_role, import_preview, import_apply, invite_page]
