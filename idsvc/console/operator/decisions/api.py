"""Operator page ``/console/decisions``: the decisions waiting for a second operator, each
with its terms, the proposer's note and a form to approve it with a reason."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from idsvc.approvals.service import approve_decision
from idsvc.console.forms import FormErrors, read_form, validate_form
from idsvc.console.guard import Viewer, form_csrf, operator_viewer
from idsvc.console.operator.decisions.service import decision_rows
from idsvc.db import Connection, keeping_refusals
from idsvc.errors import BadRequest, Conflict, Forbidden, NotFound
from idsvc.four_eyes.service import FourEyes
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.pages import page
from idsvc.settings import Settings

__all__ = ["routes"]

_NOTICES = frozenset({"decided", "proposed"})


class ApproveForm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=20, max_length=200)]


async def _decisions_page(
    conn: Connection,
    *,
    viewer: Viewer,
    now: datetime,
    status: int = 200,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    failed: str | None = None,
    notice: str | None = None,
) -> Template:
    return page(
        "console/decisions.html",
        title="Decisions awaiting a second operator",
        section="decisions",
        status=status,
        rows=await decision_rows(conn, now=now),
        me=f"user:{viewer.session.user_id}",
        errors=errors or {},
        values=values or {},
        failed=failed,
        notice=notice if notice in _NOTICES else None,
        **viewer.page_context(),
    )


@get("/decisions", include_in_schema=False, guards=[operator_viewer])
async def decisions_page(
    *, request: Request[Any, Any, Any], viewer: Injected[Viewer], conn: Transaction, now: Now
) -> Template:
    return await _decisions_page(
        conn, viewer=viewer, now=now, notice=request.query_params.get("done")
    )


@post(
    "/decisions/{decision_id:uuid}/approve",
    include_in_schema=False,
    status_code=303,
    guards=[operator_viewer, form_csrf],
)
async def approve_page(
    *,
    request: Request[Any, Any, Any],
    decision_id: FromPath[uuid.UUID],
    viewer: Injected[Viewer],
    four_eyes: Injected[FourEyes],
    settings: Injected[Settings],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    data = await read_form(request)
    form, errors = validate_form(ApproveForm, data)
    if form is None:
        return await _decisions_page(
            conn, viewer=viewer, now=now, status=400, errors=errors, values=data,
            failed=str(decision_id),
        )  # fmt: skip
    try:
        # Refusals keep their audit event (four eyes); anything else leaves nothing behind.
        async with keeping_refusals(conn):
            approval = await approve_decision(
                conn, decision_id, actor=actor, reason=form.reason.strip(), now=now,
                rule=four_eyes, settings=settings,
            )  # fmt: skip
    except (BadRequest, Conflict, Forbidden, NotFound) as exc:
        return await _decisions_page(
            conn, viewer=viewer, now=now, status=exc.status, errors={"reason": exc.detail},
            values=data, failed=str(decision_id),
        )  # fmt: skip
    return Redirect(f"/console/decisions?done={approval.outcome}", status_code=303)


routes = [decisions_page, approve_page]
