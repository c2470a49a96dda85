"""``/v1/orgs/{id}/members``: an organisation's admins (and operators) list members with
their eligibility, change a member's state or role, and import members from CSV."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from idsvc.audit import record_event
from idsvc.errors import BadRequest, InvalidCsv, InvalidCsvRequest, UnsupportedMediaType
from idsvc.http.body import read_json
from idsvc.http.openapi import documented
from idsvc.orgs.admin_guard import org_admin_user
from idsvc.orgs.csv_import import ImportPlan, apply_import, parse_members_csv, plan_import
from idsvc.orgs.eligibility_report import eligibility_report, report_csv
from idsvc.orgs.member_list import MemberPage, MemberQuery, list_members
from idsvc.orgs.members import set_member_role, set_member_status
from idsvc.orgs.records import MemberRole, Membership
from idsvc.runtime import RuntimeDependency

__all__ = ["member_routes"]

_NO_STORE = {"Cache-Control": "no-store"}
# A CSV of 100,000 rows is a few megabytes; the app-wide limit is for JSON bodies.
MAX_CSV_BYTES = 8 * 1024 * 1024


class StatusChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    status: Literal["active", "suspended", "removed"]
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class RoleChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: MemberRole


class ImportReport(msgspec.Struct, frozen=True, kw_only=True):
    dry_run: bool
    added: tuple[str, ...]
    roles_changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int


class ReportQuery(msgspec.Struct, frozen=True, kw_only=True):
    format: Literal["json", "csv"] = "json"


class ImportQuery(msgspec.Struct, frozen=True, kw_only=True):
    dry_run: Literal["true", "false", "1", "0"] = "false"


@get("/v1/orgs/{org_id:uuid}/members", opt=documented(query=MemberQuery))
async def members(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[MemberPage]:
    await org_admin_user(request, runtime, org_id, changing=False, action="read")
    raw = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    try:
        query = msgspec.convert(raw, MemberQuery, strict=False)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"query: {exc}") from None
    async with runtime.pool.acquire() as conn:
        page = await list_members(
            conn, org_id, query, policies=runtime.policies, now=runtime.clock()
        )
    return Response(page, headers=_NO_STORE)


@get(
    "/v1/orgs/{org_id:uuid}/eligibility-report",
    opt=documented(query=ReportQuery, returns=("application/json", "text/csv")),
)
async def eligibility_report_route(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[Any]:
    """Members by audiences with the coarse states; ``?format=csv`` for a spreadsheet. The
    download is audited (who took a list of the organisation's people, and when)."""
    user = await org_admin_user(request, runtime, org_id, changing=False, action="read")
    wanted = request.query_params.get("format", "json")
    if wanted not in ("json", "csv"):
        raise BadRequest("format must be json or csv")
    now = runtime.clock()
    async with runtime.pool.acquire() as conn, conn.transaction():
        report = await eligibility_report(conn, org_id, policies=runtime.policies, now=now)
        await record_event(
            conn,
            at=now,
            actor=f"user:{user}",
            action="org.eligibility_report.exported",
            target=f"org:{org_id}",
            data={"format": wanted, "members": len(report.members)},
        )
    if wanted == "csv":
        return Response(
            report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={
                **_NO_STORE,
                "Content-Disposition": f'attachment; filename="eligibility-{org_id}.csv"',
            },
        )
    return Response(report, headers=_NO_STORE)


@post(
    "/v1/orgs/{org_id:uuid}/members/{membership_id:uuid}/status",
    status_code=200,
    opt=documented(body=StatusChange),
)
async def change_status(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> Membership:
    actor = f"user:{await org_admin_user(request, runtime, org_id, changing=True, action='enroll')}"
    body = await read_json(request, StatusChange)
    async with runtime.pool.acquire() as conn, conn.transaction():
        return await set_member_status(
            conn, org_id=org_id, membership_id=membership_id, status=body.status, actor=actor,
            now=runtime.clock(), reason=body.reason,
        )  # fmt: skip


@post(
    "/v1/orgs/{org_id:uuid}/members/{membership_id:uuid}/role",
    status_code=200,
    opt=documented(body=RoleChange),
)
async def change_role(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> Membership:
    actor = f"user:{await org_admin_user(request, runtime, org_id, changing=True, action='enroll')}"
    body = await read_json(request, RoleChange)
    async with runtime.pool.acquire() as conn, conn.transaction():
        return await set_member_role(
            conn, org_id=org_id, membership_id=membership_id, role=body.role, actor=actor,
            now=runtime.clock(),
        )  # fmt: skip


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
    opt=documented(csv=True, query=ImportQuery),
)
async def import_members(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> Response[ImportReport]:
    """``text/csv``; ``?dry_run=true`` answers what would change without changing it."""
    actor = f"user:{await org_admin_user(request, runtime, org_id, changing=True, action='enroll')}"
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
    async with runtime.pool.acquire() as conn, conn.transaction():
        plan = await plan_import(conn, org_id, rows)
        if not dry_run:
            await apply_import(conn, org_id, plan, actor=actor, now=runtime.clock())
    return Response(report(plan, dry_run=dry_run), headers=_NO_STORE)


member_routes = [eligibility_report_route, members, change_status, change_role, import_members]
