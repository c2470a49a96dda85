"""``POST /v1/orgs/{org_id}/members:import``: an organisation's admins enrol members from a
CSV file; ``?dry_run=true`` answers what would change without changing it."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import msgspec
from litestar import Request, Response, post
from litestar.params import FromPath

from idsvc.errors import InvalidCsv, InvalidCsvRequest, UnsupportedMediaType
from idsvc.http.inject import Actor, Now, Transaction
from idsvc.http.openapi import documented
from idsvc.orgs.enrolment.service import ImportPlan, apply_import, parse_members_csv, plan_import
from idsvc.orgs.guards import org_admin

__all__ = ["routes"]

_NO_STORE = {"Cache-Control": "no-store"}
# A CSV of 100,000 rows is a few megabytes; the app-wide limit is for JSON bodies.
MAX_CSV_BYTES = 8 * 1024 * 1024


class ImportReport(msgspec.Struct, frozen=True, kw_only=True):
    dry_run: bool
    added: tuple[str, ...]
    roles_changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int


class ImportQuery(msgspec.Struct, frozen=True, kw_only=True):
    dry_run: Literal["true", "false", "1", "0"] = "false"


def report(plan: ImportPlan, *, dry_run: bool) -> ImportReport:
    return ImportReport(
        dry_run=dry_run,
        added=tuple(r.email for r in plan.add),
        roles_changed=tuple(c.email for c in plan.change_role),
        removed=tuple(c.email for c in plan.remove),
        unchanged=plan.unchanged,
    )


@post(
    "/v1/orgs/{org_id:uuid}/members:import",
    status_code=200,
    request_max_body_size=MAX_CSV_BYTES,
    guards=[org_admin("enroll")],
    opt=documented(csv=True, query=ImportQuery),
)
async def import_members(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[ImportReport]:
    """``text/csv``; ``?dry_run=true`` answers what would change without changing it."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "text/csv":
        raise UnsupportedMediaType("send the file as text/csv")
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidCsvRequest("the file must be UTF-8 text") from None
    rows, errors = parse_members_csv(text)
    if errors:
        raise InvalidCsv(
            f"{len(errors)} problem(s) in the file",
            errors=[msgspec.to_builtins(e) for e in errors[:1000]],
        )
    dry_run = request.query_params.get("dry_run") in ("true", "1")
    plan = await plan_import(conn, org_id, rows)
    if not dry_run:
        await apply_import(conn, org_id, plan, actor=actor, now=now)
    return Response(report(plan, dry_run=dry_run), headers=_NO_STORE)


routes = [import_members]
