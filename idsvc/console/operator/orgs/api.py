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

from idsvc.console.forms import FormErrors, read_form, validate_form
from idsvc.console.guard import Viewer, form_csrf, operator_viewer
from idsvc.console.operator.orgs.service import org_queue, org_review
from idsvc.db import Connection, keeping_refusals
from idsvc.errors import Conflict, Forbidden
from idsvc.four_eyes.service import FourEyes, Proposed
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.pages import page
from idsvc.orgs.vetting.organisations import ORG_TRANSITIONS, set_org_programs, set_org_status
from idsvc.orgs.vetting.screening_hits import override_hit
from idsvc.settings import Settings

__all__ = ["routes"]

_OPERATOR_FORM = [operator_viewer, form_csrf]


class StatusForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    status: Literal["approved", "rejected", "suspended"]
    reason: Annotated[str, msgspec.Meta(min_length=5, max_length=2000)]


class OverrideForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    justification: Annotated[str, msgspec.Meta(min_length=20, max_length=2000)]


class ProgramsForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    programs: Annotated[str, msgspec.Meta(max_length=500, pattern=r"^[a-z0-9, -]*$")] = ""


def page_for(
    template: str, title: str, viewer: Viewer, *, status_code: int = 200, **context: Any
) -> Template:
    return page(
        template, title=title, section="orgs", status=status_code, **context,
        **viewer.page_context(),
    )  # fmt: skip


@get("/orgs", include_in_schema=False, guards=[operator_viewer])
async def queue(
    *,
    request: Request[Any, Any, Any],
    viewer: Injected[Viewer],
    settings: Injected[Settings],
    conn: Transaction,
    now: Now,
) -> Template:
    wanted = request.query_params.get("status", "pending")
    status = wanted if wanted in ORG_TRANSITIONS else None
    list_max_age = settings.config.screening.list_max_age
    found = await org_queue(conn, status, now=now, list_max_age=list_max_age)
    return page_for(
        "console/orgs.html",
        "Organisations",
        viewer,
        orgs=found.orgs,
        open_hits=found.open_hits,
        screening_list=found.screening_list,
        max_list_days=list_max_age.days,
        shown=wanted,
        statuses=["pending", "approved", "suspended", "rejected", "all"],
    )


async def _org_page(
    conn: Connection,
    org_id: uuid.UUID,
    *,
    viewer: Viewer,
    status_code: int = 200,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    failed: str | None = None,
    notice: str | None = None,
) -> Template:
    review = await org_review(conn, org_id)
    return page_for(
        "console/org.html",
        review.org.legal_name,
        viewer,
        status_code=status_code,
        org=review.org,
        hits=review.hits,
        next_states=review.next_states,
        errors=errors or {},
        values=values or {},
        failed=failed,
        notice=notice,
    )


@get("/orgs/{org_id:uuid}", include_in_schema=False, guards=[operator_viewer])
async def org_detail(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    viewer: Injected[Viewer],
    conn: Transaction,
) -> Template:
    return await _org_page(conn, org_id, viewer=viewer, notice=request.query_params.get("done"))


@post("/orgs/{org_id:uuid}/status", include_in_schema=False, status_code=303, guards=_OPERATOR_FORM)
async def decide_org(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    viewer: Injected[Viewer],
    settings: Injected[Settings],
    four_eyes: Injected[FourEyes],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    data = await read_form(request)
    form, errors = validate_form(StatusForm, data)
    if form is None:
        return await _org_page(
            conn, org_id, viewer=viewer, status_code=400, errors=errors, values=data,
            failed="status",
        )  # fmt: skip
    try:
        # A savepoint: a refused decision leaves nothing of itself behind but the audit
        # event of a refusal that is audited (four eyes).
        async with keeping_refusals(conn):
            decided = await set_org_status(
                conn,
                org_id=org_id,
                status=form.status,
                reason=form.reason,
                actor=actor,
                now=now,
                four_eyes=settings.config.screening.four_eyes_approval,
                rule=four_eyes,
                list_max_age=settings.config.screening.list_max_age,
            )
    except (Conflict, Forbidden) as exc:
        return await _org_page(
            conn, org_id, viewer=viewer, status_code=exc.status, errors={"_form": exc.detail},
            values=data, failed="status",
        )  # fmt: skip
    done = "proposed" if isinstance(decided, Proposed) else form.status
    return Redirect(f"/console/orgs/{org_id}?done={done}", status_code=303)


@post(
    "/orgs/{org_id:uuid}/hits/{hit_id:uuid}/override",
    include_in_schema=False,
    status_code=303,
    guards=_OPERATOR_FORM,
)
async def override(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    hit_id: FromPath[uuid.UUID],
    viewer: Injected[Viewer],
    settings: Injected[Settings],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    data = await read_form(request)
    form, errors = validate_form(OverrideForm, data)
    if form is None:
        return await _org_page(
            conn, org_id, viewer=viewer, status_code=400, errors=errors, values=data,
            failed=str(hit_id),
        )  # fmt: skip
    await override_hit(
        conn,
        org_id=org_id,
        hit_id=hit_id,
        justification=form.justification,
        actor=actor,
        now=now,
        validity=timedelta(seconds=settings.config.screening.override_validity),
    )
    return Redirect(f"/console/orgs/{org_id}?done=overridden", status_code=303)


@post(
    "/orgs/{org_id:uuid}/programs", include_in_schema=False, status_code=303, guards=_OPERATOR_FORM
)
async def programs(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    viewer: Injected[Viewer],
    settings: Injected[Settings],
    four_eyes: Injected[FourEyes],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    data = await read_form(request)
    form, errors = validate_form(ProgramsForm, data)
    if form is None:
        return await _org_page(
            conn, org_id, viewer=viewer, status_code=400, errors=errors, values=data,
            failed="programs",
        )  # fmt: skip
    chosen = sorted({p.strip() for p in form.programs.split(",") if p.strip()})
    try:
        # A savepoint: a refused grant leaves nothing of itself behind but the audit event
        # of a refusal that is audited (four eyes).
        async with keeping_refusals(conn):
            decided = await set_org_programs(
                conn,
                org_id=org_id,
                programs=chosen,
                reason="granted in the console",
                actor=actor,
                now=now,
                rule=four_eyes,
                list_max_age=settings.config.screening.list_max_age,
            )
    except (Conflict, Forbidden) as exc:
        return await _org_page(
            conn, org_id, viewer=viewer, status_code=exc.status, errors={"_form": exc.detail},
            values=data, failed="programs",
        )  # fmt: skip
    done = "proposed" if isinstance(decided, Proposed) else "programs"
    return Redirect(f"/console/orgs/{org_id}?done={done}", status_code=303)


routes = [queue, org_detail, decide_org, override, programs]
