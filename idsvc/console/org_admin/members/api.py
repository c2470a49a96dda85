"""Org admin pages for members: state and role changes, CSV upload with a preview, and
invitations by e-mail."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.clock import Clock
from idsvc.console.forms import read_form, validate_form
from idsvc.console.guard import FORM_LIMIT_OPT, form_csrf
from idsvc.console.org_admin.guard import administers
from idsvc.console.org_admin.members.service import import_members, preview_import
from idsvc.console.org_admin.pages import (
    MAX_CSV_BYTES,
    InviteForm,
    MemberAction,
    OrgAdminPages,
    RoleForm,
    csv_text,
    split_list,
)
from idsvc.db.database import Database
from idsvc.errors import IdsvcError, InvalidCsvRequest
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.pages import page
from idsvc.mail.senders import Mailer
from idsvc.orgs.enrolment.service import parse_members_csv
from idsvc.orgs.invitations.sending import InvitationMail, send_invitations
from idsvc.orgs.members.service import set_member_role, set_member_status
from idsvc.settings import Settings

__all__ = ["routes"]

_ENROLL_FORM = [administers("enroll"), form_csrf]
# The CSV forms are bounded by the route's request_max_body_size, not the form limit.
_CSV_FORM = {FORM_LIMIT_OPT: None}


@post(
    "/my-orgs/{org_id:uuid}/members/{membership_id:uuid}/status",
    include_in_schema=False,
    status_code=303,
    guards=_ENROLL_FORM,
)
async def member_status(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    form, errors = validate_form(MemberAction, await read_form(request))
    if form is not None and form.status != "active" and form.confirm != "yes":
        errors = {"confirm": "Tick the box to confirm."}
    if form is None or errors:
        return await org_pages.org_page(
            conn, org_id, status=400, errors=errors, failed=str(membership_id)
        )
    try:
        # A savepoint: a refused change leaves nothing of itself behind.
        async with conn.transaction():
            await set_member_status(
                conn,
                org_id=org_id,
                membership_id=membership_id,
                status=form.status,
                actor=actor,
                now=now,
                reason="console",
            )
    except IdsvcError as exc:
        if exc.status == 404:
            raise
        return await org_pages.org_page(
            conn,
            org_id,
            status=exc.status,
            errors={"confirm": exc.detail},
            failed=str(membership_id),
        )
    return Redirect(f"/console/my-orgs/{org_id}?done={form.status}", status_code=303)


@post(
    "/my-orgs/{org_id:uuid}/members/{membership_id:uuid}/role",
    include_in_schema=False,
    status_code=303,
    guards=_ENROLL_FORM,
)
async def member_role(
    *,
    org_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    form, problem = await org_pages.form_or_page(
        conn, org_id, struct=RoleForm, failed=str(membership_id)
    )
    if problem is not None:
        return problem
    try:
        # A savepoint: a refused change leaves nothing of itself behind.
        async with conn.transaction():
            await set_member_role(
                conn,
                org_id=org_id,
                membership_id=membership_id,
                role=form.role,
                actor=actor,
                now=now,
            )
    except IdsvcError as exc:
        if exc.status == 404:
            raise
        return await org_pages.org_page(
            conn,
            org_id,
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
    guards=_ENROLL_FORM,
    opt=_CSV_FORM,
)
async def import_preview(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
) -> Template:
    """First step: the file is checked and compared with the members; nothing is applied."""
    text = await csv_text(request)
    rows, errors = parse_members_csv(text)
    plan = None if errors else await preview_import(conn, org_id, rows)
    return page(
        "console/import.html",
        title="CSV import",
        section=f"org-{org_id}",
        status=422 if errors else 200,
        org_id=org_id,
        row_errors=errors,
        plan=plan,
        csv=text,
        **await org_pages.context(conn),
    )


@post(
    "/my-orgs/{org_id:uuid}/import/apply",
    include_in_schema=False,
    status_code=303,
    request_max_body_size=MAX_CSV_BYTES,
    guards=_ENROLL_FORM,
    opt=_CSV_FORM,
)
async def import_apply(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    rows, errors = parse_members_csv(await csv_text(request))
    if errors:
        raise InvalidCsvRequest("the file has errors: upload it again to see them")
    await import_members(conn, org_id, rows, actor=actor, now=now)
    return Redirect(f"/console/my-orgs/{org_id}?done=imported", status_code=303)


@post(
    "/my-orgs/{org_id:uuid}/invitations",
    include_in_schema=False,
    status_code=200,
    guards=_ENROLL_FORM,
)
async def invite_page(
    *,
    org_id: FromPath[uuid.UUID],
    org_pages: Injected[OrgAdminPages],
    database: Injected[Database],
    settings: Injected[Settings],
    mailer: Injected[Mailer | None],
    clock: Injected[Clock],
) -> Template:
    """The same invitations as the API: one single-use code per address, sent after commit.

    Outside the request's transaction: ``send_invitations`` commits the invitations in its
    own transaction and then mails them, and no connection is held while mail is sent."""
    async with database.connection() as conn:
        form, problem = await org_pages.form_or_page(
            conn, org_id, struct=InviteForm, failed="invite"
        )
    if problem is not None:
        return problem
    try:
        outcomes = await send_invitations(
            InvitationMail(database=database, settings=settings, mailer=mailer, clock=clock),
            org_id,
            split_list(form.emails),
            role=form.role,
            invited_by=org_pages.viewer.session.user_id,
        )
    except IdsvcError as exc:
        message = "E-mail is not configured on this service." if exc.status == 503 else exc.detail
        async with database.connection() as conn:
            return await org_pages.org_page(
                conn,
                org_id,
                status=exc.status,
                errors={"emails": message},
                values={"emails": form.emails},
                failed="invite",
            )
    async with database.connection() as conn:
        return await org_pages.org_page(conn, org_id, invited=outcomes)


routes = [member_status, member_role, import_preview, import_apply, invite_page]
