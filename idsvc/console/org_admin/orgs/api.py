"""Org admin pages: the organisations one belongs to and the request form, an organisation's
page, and its own audit trail."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.console.forms import read_form, validate_form
from idsvc.console.guard import form_csrf, signed_in_viewer
from idsvc.console.org_admin.guard import administers
from idsvc.console.org_admin.orgs.service import org_trail
from idsvc.console.org_admin.pages import OrgAdminPages, RequestForm, split_list
from idsvc.errors import IdsvcError
from idsvc.http.inject import Injected, Transaction
from idsvc.http.pages import page
from idsvc.orgs.vetting.requests import OrgRequest
from idsvc.orgs.vetting.service import submit_request

__all__ = ["routes"]


@get("/my-orgs", include_in_schema=False, guards=[signed_in_viewer])
async def my_orgs(*, org_pages: Injected[OrgAdminPages], conn: Transaction) -> Template:
    return page(
        "console/my_orgs.html",
        title="Your organisations",
        section="my-orgs",
        errors={},
        values={},
        **await org_pages.context(conn),
    )


@post("/my-orgs", include_in_schema=False, status_code=303, guards=[signed_in_viewer, form_csrf])
async def request_org(
    *,
    request: Request[Any, Any, Any],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
) -> Response[Any]:
    data = await read_form(request)
    form, errors = validate_form(RequestForm, data)
    org_id = None
    if form is not None:
        try:
            body = msgspec.convert(
                {
                    "legal_name": form.legal_name,
                    "country": form.country,
                    "contact_email": form.contact_email,
                    "domains": split_list(form.domains),
                    "programs_requested": split_list(form.programs),
                },
                OrgRequest,
            )
            # A savepoint: a refused request leaves nothing of itself behind.
            async with conn.transaction():
                org, _claimed = await submit_request(
                    conn,
                    body,
                    requester=org_pages.viewer.session.user_id,
                    threshold=org_pages.settings.config.screening.threshold,
                    now=org_pages.now,
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
            **await org_pages.context(conn),
        )
    return Redirect(f"/console/my-orgs/{org_id}", status_code=303)


@get("/my-orgs/{org_id:uuid}", include_in_schema=False, guards=[administers("read")])
async def my_org(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
) -> Template:
    return await org_pages.org_page(conn, org_id, done=request.query_params.get("done"))


@get("/my-orgs/{org_id:uuid}/audit", include_in_schema=False, guards=[administers("read")])
async def org_audit(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    org_pages: Injected[OrgAdminPages],
    conn: Transaction,
) -> Template:
    """The organisation's own trail: events whose target is the organisation."""
    action = str(request.query_params.get("action", ""))[:100]
    org, events = await org_trail(conn, org_id, action)
    return page(
        "console/org_audit.html",
        title=f"{org.legal_name}: audit trail",
        section=f"org-{org_id}",
        org=org,
        events=events,
        action=action,
        **await org_pages.context(conn),
    )


routes = [my_orgs, request_org, my_org, org_audit]
