"""Org admin pages: the organisations one belongs to and the request form, an organisation's
page, and its own audit trail."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.console.admin_common import (
    RequestForm,
    admin_context,
    admin_viewer,
    org_page,
    split_list,
)
from idsvc.console.audit_query import AuditFilter, find_events
from idsvc.console.forms import read_form, validate_form
from idsvc.console.guard import viewer
from idsvc.errors import IdsvcError
from idsvc.http.pages import page
from idsvc.orgs.disclosure import OPERATOR_ONLY_EVENTS
from idsvc.orgs.vetting.organisations import get_organisation
from idsvc.orgs.vetting.requests import OrgRequest
from idsvc.orgs.vetting.service import submit_request
from idsvc.runtime import RuntimeDependency

__all__ = ["org_pages_for_admins"]


@get("/my-orgs", include_in_schema=False)
async def my_orgs(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Template:
    seen = await viewer(request, runtime)
    return page(
        "console/my_orgs.html",
        title="Your organisations",
        section="my-orgs",
        errors={},
        values={},
        **await admin_context(runtime, seen),
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
                    "domains": split_list(form.domains),
                    "programs_requested": split_list(form.programs),
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
            **await admin_context(runtime, seen),
        )
    return Redirect(f"/console/my-orgs/{org_id}", status_code=303)


@get("/my-orgs/{org_id:uuid}", include_in_schema=False)
async def my_org(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Template:
    seen = await admin_viewer(request, runtime, org_id, "read")
    return await org_page(request, runtime, org_id, seen, done=request.query_params.get("done"))


@get("/my-orgs/{org_id:uuid}/audit", include_in_schema=False)
async def org_audit(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Template:
    """The organisation's own trail: events whose target is the organisation."""
    seen = await admin_viewer(request, runtime, org_id, "read")
    action = str(request.query_params.get("action", ""))[:100]
    async with runtime.pool.acquire() as conn:
        org = await get_organisation(conn, org_id)
        events = await find_events(
            conn,
            AuditFilter(target=f"org:{org_id}", action=action),
            limit=200,
            hidden_actions=OPERATOR_ONLY_EVENTS,
        )
    return page(
        "console/org_audit.html",
        title=f"{org.legal_name}: audit trail",
        section=f"org-{org_id}",
        org=org,
        events=events,
        action=action,
        **await admin_context(runtime, seen),
    )


org_pages_for_admins = [my_orgs, request_org, my_org, org_audit]
