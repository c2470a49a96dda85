"""Operator pages for the audit trail: filter by actor, action, target and time, verify
the hash chain, export what the filter shows."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Stream, Template

from idsvc.audit.verify import verify_chain
from idsvc.console.audit_query import AuditFilter
from idsvc.console.forms import read_form, validate_form
from idsvc.console.guard import Viewer, form_csrf, operator_viewer
from idsvc.console.operator.audit.service import export_lines, read_events
from idsvc.db.database import Database
from idsvc.errors import BadRequest
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.pages import page

__all__ = ["routes"]

_PAGE_SIZE = 50


def _audit_filter(
    request: Request[Any, Any, Any],
) -> tuple[AuditFilter, dict[str, str], dict[str, str]]:
    raw = {
        k: v.strip()
        for k, v in request.query_params.items()
        if k in AuditFilter.__struct_fields__ and isinstance(v, str)
    }
    query, errors = validate_form(AuditFilter, raw)
    return query or AuditFilter(), errors, raw


@get("/audit", include_in_schema=False, guards=[operator_viewer])
async def audit_page(
    *,
    request: Request[Any, Any, Any],
    viewer: Injected[Viewer],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Template:
    query, errors, raw = _audit_filter(request)
    events, more = (
        ([], False)
        if errors
        else await read_events(conn, query, limit=_PAGE_SIZE, now=now, actor=actor)
    )
    next_params = {k: v for k, v in raw.items() if k != "before"} | (
        {"before": str(events[-1].seq)} if more else {}
    )
    return page(
        "console/audit.html",
        title="Audit trail",
        section="audit",
        status=400 if errors else 200,
        events=events,
        errors=errors,
        values=raw,
        next_params=next_params if more else None,
        export_params={k: v for k, v in raw.items() if k in ("since",)},
        **viewer.page_context(),
    )


@post(
    "/audit/verify",
    include_in_schema=False,
    status_code=200,
    guards=[operator_viewer, form_csrf],
)
async def audit_verify(
    *, request: Request[Any, Any, Any], viewer: Injected[Viewer], database: Injected[Database]
) -> Template:
    await read_form(request)  # its fields are unused, but refused with control characters
    # Not the request's transaction: the check reads the chain in a repeatable-read,
    # read-only transaction of its own, which cannot be nested in another.
    async with database.connection() as conn:
        report = await verify_chain(conn)
    return page(
        "console/audit_verified.html",
        title="Audit chain",
        section="audit",
        report=report,
        **viewer.page_context(),
    )


@get("/audit/export", include_in_schema=False, guards=[operator_viewer])
async def audit_export(
    *, request: Request[Any, Any, Any], database: Injected[Database]
) -> Response[Any]:
    """The filtered events as JSON lines, every page of them, oldest last."""
    query, errors, _raw = _audit_filter(request)
    if errors:
        raise BadRequest(
            "fix the filter first: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
        )
    return Stream(
        export_lines(database, query),
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": 'attachment; filename="idsvc-audit.jsonl"',
            "Cache-Control": "no-store",
        },
    )


routes = [audit_page, audit_verify, audit_export]
