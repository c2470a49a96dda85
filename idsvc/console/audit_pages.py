"""Operator pages for the audit trail: filter by actor, action, target and time, verify
the hash chain, export what the filter shows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Stream, Template

from idsvc.audit import record_events
from idsvc.audit.personal import open_sealed, sealed_people
from idsvc.audit.verify import verify_chain
from idsvc.console.audit_query import AuditFilter, find_events
from idsvc.console.forms import read_form, validate_form
from idsvc.console.guard import operator_viewer
from idsvc.errors import BadRequest
from idsvc.http.pages import page
from idsvc.runtime import RuntimeDependency

__all__ = ["audit_pages"]

_PAGE_SIZE = 50
_EXPORT_BATCH = 1000


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


@get("/audit", include_in_schema=False)
async def audit_page(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Template:
    seen = await operator_viewer(request, runtime)
    query, errors, raw = _audit_filter(request)
    async with runtime.pool.acquire() as conn, conn.transaction():
        events = [] if errors else await find_events(conn, query, limit=_PAGE_SIZE + 1)
        more = len(events) > _PAGE_SIZE
        events = events[:_PAGE_SIZE]
        people = sorted(set().union(*(sealed_people(e.data) for e in events)) if events else [])
        # Operators read personal values sealed under a person's data key (an erased
        # person's read "[erased]"); like every operator read of a person's attestations,
        # the read is audited, without the values. (Exports keep the sealed form.)
        events = [msgspec.structs.replace(e, data=await open_sealed(conn, e.data)) for e in events]
        if people:
            await record_events(
                conn,
                at=runtime.clock(),
                actor=f"user:{seen.session.user_id}",
                action="person.attestations.viewed",
                events=[(f"user:{person}", {"via": "audit trail"}) for person in people],
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
        **seen.page_context(),
    )


@post("/audit/verify", include_in_schema=False, status_code=200)
async def audit_verify(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Template:
    seen = await operator_viewer(request, runtime)
    await read_form(request, seen.session)
    async with runtime.pool.acquire() as conn:
        report = await verify_chain(conn)
    return page(
        "console/audit_verified.html",
        title="Audit chain",
        section="audit",
        report=report,
        **seen.page_context(),
    )


@get("/audit/export", include_in_schema=False)
async def audit_export(
    request: Request[Any, Any, Any], runtime: RuntimeDependency
) -> Response[Any]:
    """The filtered events as JSON lines, every page of them, oldest last."""
    await operator_viewer(request, runtime)
    query, errors, _raw = _audit_filter(request)
    if errors:
        raise BadRequest(
            "fix the filter first: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
        )

    async def lines() -> AsyncIterator[bytes]:
        cursor = query
        while True:
            async with runtime.pool.acquire() as conn:
                events = await find_events(conn, cursor, limit=_EXPORT_BATCH)
            for event in events:
                yield msgspec.json.encode(event) + b"\n"
            if len(events) < _EXPORT_BATCH:
                return
            cursor = msgspec.structs.replace(cursor, before=events[-1].seq)

    return Stream(
        lines(),
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": 'attachment; filename="idsvc-audit.jsonl"',
            "Cache-Control": "no-store",
        },
    )


audit_pages = [audit_page, audit_verify, audit_export]
