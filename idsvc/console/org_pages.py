"""Operator pages for organisations: the queue of requests, and one organisation with its
screening hits side by side with the list entries they matched; approve, reject,
suspend, reinstate, grant programs, override a hit with a written justification."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.console.forms import read_form, validate_form
from idsvc.console.guard import operator_viewer
from idsvc.errors import Conflict
from idsvc.http.pages import page
from idsvc.orgs.vetting.organisations import (
    ORG_TRANSITIONS,
    get_organisation,
    list_organisations,
    set_org_programs,
    set_org_status,
)
from idsvc.orgs.vetting.screening_hits import list_hits, override_hit
from idsvc.runtime import RuntimeDependency
from idsvc.screening.freshness import newest_list

__all__ = ["org_pages"]


class StatusForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    status: Literal["approved", "rejected", "suspended"]
    reason: Annotated[str, msgspec.Meta(min_length=5, max_length=2000)]


class OverrideForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    justification: Annotated[str, msgspec.Meta(min_length=20, max_length=2000)]


class ProgramsForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    programs: Annotated[str, msgspec.Meta(max_length=500, pattern=r"^[a-z0-9, -]*$")] = ""


@get("/orgs", include_in_schema=False)
async def queue(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Template:
    seen = await operator_viewer(request, runtime)
    wanted = request.query_params.get("status", "pending")
    status = wanted if wanted in ORG_TRANSITIONS else None
    async with runtime.pool.acquire() as conn:
        orgs = await list_organisations(conn, status=status, limit=200)  # type: ignore[arg-type]
        hits = await list_hits(conn, [o.id for o in orgs], state="open")
        newest = await newest_list(conn)
    open_hits = {o.id: sum(1 for h in hits if h.org_id == o.id) for o in orgs}
    now = runtime.clock()
    screening_list = (
        None
        if newest is None
        else {
            "imported": newest.imported_at.strftime("%Y-%m-%d %H:%M UTC"),
            "days": newest.age(now).days,
            "entries": newest.entries,
            "stale": newest.age(now) > runtime.settings.config.screening.list_max_age,
        }
    )
    return page_for(
        "console/orgs.html",
        "Organisations",
        seen,
        orgs=orgs,
        open_hits=open_hits,
        screening_list=screening_list,
        max_list_days=runtime.settings.config.screening.list_max_age.days,
        shown=wanted,
        statuses=["pending", "approved", "suspended", "rejected", "all"],
    )


def page_for(
    template: str, title: str, seen: Any, *, status_code: int = 200, **context: Any
) -> Template:
    return page(
        template, title=title, section="orgs", status=status_code, **context, **seen.page_context()
    )


async def _org_page(
    request: Request[Any, Any, Any], runtime: RuntimeDependency, org_id: uuid.UUID, **extra: Any
) -> Template:
    seen = await operator_viewer(request, runtime)
    async with runtime.pool.acquire() as conn:
        org = await get_organisation(conn, org_id)
        hits = await list_hits(conn, [org_id])
    return page_for(
        "console/org.html",
        org.legal_name,
        seen,
        status_code=extra.pop("status_code", 200),
        org=org,
        hits=hits,
        next_states=sorted(ORG_TRANSITIONS[org.status]),
        errors=extra.pop("errors", {}),
        values=extra.pop("values", {}),
        failed=extra.pop("failed", None),
        notice=extra.pop("notice", None),
    )


@get("/orgs/{org_id:uuid}", include_in_schema=False)
async def org_detail(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Template:
    return await _org_page(request, runtime, org_id, notice=request.query_params.get("done"))


@post("/orgs/{org_id:uuid}/status", include_in_schema=False, status_code=303)
async def decide_org(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    seen = await operator_viewer(request, runtime)
    data = await read_form(request, seen.session)
    form, errors = validate_form(StatusForm, data)
    if form is None:
        return await _org_page(
            request, runtime, org_id, status_code=400, errors=errors, values=data, failed="status"
        )
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            await set_org_status(
                conn,
                org_id=org_id,
                status=form.status,
                reason=form.reason,
                actor=f"user:{seen.session.user_id}",
                now=runtime.clock(),
                four_eyes=runtime.settings.config.screening.four_eyes_approval,
                list_max_age=runtime.settings.config.screening.list_max_age,
            )
    except Conflict as exc:
        return await _org_page(
            request,
            runtime,
            org_id,
            status_code=409,
            errors={"_form": exc.detail},
            values=data,
            failed="status",
        )
    return Redirect(f"/console/orgs/{org_id}?done={form.status}", status_code=303)


@post("/orgs/{org_id:uuid}/hits/{hit_id:uuid}/override", include_in_schema=False, status_code=303)
async def override(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    hit_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> Response[Any]:
    seen = await operator_viewer(request, runtime)
    data = await read_form(request, seen.session)
    form, errors = validate_form(OverrideForm, data)
    if form is None:
        return await _org_page(
            request,
            runtime,
            org_id,
            status_code=400,
            errors=errors,
            values=data,
            failed=str(hit_id),
        )
    async with runtime.pool.acquire() as conn, conn.transaction():
        await override_hit(
            conn,
            org_id=org_id,
            hit_id=hit_id,
            justification=form.justification,
            actor=f"user:{seen.session.user_id}",
            now=runtime.clock(),
            validity=timedelta(seconds=runtime.settings.config.screening.override_validity),
        )
    return Redirect(f"/console/orgs/{org_id}?done=overridden", status_code=303)


@post("/orgs/{org_id:uuid}/programs", include_in_schema=False, status_code=303)
async def programs(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    seen = await operator_viewer(request, runtime)
    data = await read_form(request, seen.session)
    form, errors = validate_form(ProgramsForm, data)
    if form is None:
        return await _org_page(
            request, runtime, org_id, status_code=400, errors=errors, values=data, failed="programs"
        )
    chosen = sorted({p.strip() for p in form.programs.split(",") if p.strip()})
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            await set_org_programs(
                conn,
                org_id=org_id,
                programs=chosen,
                reason="granted in the console",
                actor=f"user:{seen.session.user_id}",
                now=runtime.clock(),
                list_max_age=runtime.settings.config.screening.list_max_age,
            )
    except Conflict as exc:
        return await _org_page(
            request,
            runtime,
            org_id,
            status_code=409,
            errors={"_form": exc.detail},
            values=data,
            failed="programs",
        )
    return Redirect(f"/console/orgs/{org_id}?done=programs", status_code=303)


org_pages = [queue, org_detail, decide_org, override, programs]
