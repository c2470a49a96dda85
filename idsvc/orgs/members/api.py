"""``/v1/orgs/{org_id}/members`` and ``/reviews``: an organisation's admins (and operators)
list members with their eligibility, export the eligibility report, change a member's
state or role, and decide the current access review (``orgs.members.reviews``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from idsvc.audit import record_event
from idsvc.errors import BadRequest, NotFound
from idsvc.http.body import read_json
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.openapi import documented
from idsvc.orgs.guards import org_admin
from idsvc.orgs.members.eligibility_report import eligibility_report, report_csv
from idsvc.orgs.members.member_list import MemberPage, MemberQuery, list_members
from idsvc.orgs.members.reviews import Review, current_review, decide_review
from idsvc.orgs.members.service import set_member_role, set_member_status
from idsvc.orgs.records import MemberRole, Membership
from idsvc.policy.model import PolicySettings
from idsvc.settings import Settings

__all__ = ["routes"]

_NO_STORE = {"Cache-Control": "no-store"}
_Ids = Annotated[list[uuid.UUID], msgspec.Meta(max_length=10_000)]


class StatusChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    status: Literal["active", "suspended", "removed"]
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class RoleChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: MemberRole


class ReportQuery(msgspec.Struct, frozen=True, kw_only=True):
    format: Literal["json", "csv"] = "json"


class ReviewDecisions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    confirm: _Ids = []
    remove: _Ids = []


@get(
    "/v1/orgs/{org_id:uuid}/members",
    guards=[org_admin("read")],
    opt=documented(query=MemberQuery),
)
async def members(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    policies: Injected[dict[str, PolicySettings]],
    settings: Injected[Settings],
    conn: Transaction,
    now: Now,
) -> Response[MemberPage]:
    raw = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    try:
        query = msgspec.convert(raw, MemberQuery, strict=False)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"query: {exc}") from None
    page = await list_members(
        conn, org_id, query, policies=policies, screening=settings.config.screening,
        sees_eligibility=settings.config.orgs.admin_sees_eligibility, now=now,
    )  # fmt: skip
    return Response(page, headers=_NO_STORE)


@get(
    "/v1/orgs/{org_id:uuid}/eligibility-report",
    guards=[org_admin("read")],
    opt=documented(query=ReportQuery, returns=("application/json", "text/csv")),
)
async def eligibility_report_route(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    policies: Injected[dict[str, PolicySettings]],
    settings: Injected[Settings],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Any]:
    """Members by audiences with the coarse states; ``?format=csv`` for a spreadsheet. The
    download is audited (who took a list of the organisation's people, and when)."""
    wanted = request.query_params.get("format", "json")
    if wanted not in ("json", "csv"):
        raise BadRequest("format must be json or csv")
    report = await eligibility_report(
        conn, org_id, policies=policies, screening=settings.config.screening,
        sees_eligibility=settings.config.orgs.admin_sees_eligibility, now=now,
    )  # fmt: skip
    await record_event(
        conn,
        at=now,
        actor=actor,
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
    guards=[org_admin("enroll")],
    opt=documented(body=StatusChange),
)
async def change_status(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Membership:
    body = await read_json(request, StatusChange)
    return await set_member_status(
        conn, org_id=org_id, membership_id=membership_id, status=body.status, actor=actor,
        now=now, reason=body.reason,
    )  # fmt: skip


@post(
    "/v1/orgs/{org_id:uuid}/members/{membership_id:uuid}/role",
    status_code=200,
    guards=[org_admin("enroll")],
    opt=documented(body=RoleChange),
)
async def change_role(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Membership:
    body = await read_json(request, RoleChange)
    return await set_member_role(
        conn, org_id=org_id, membership_id=membership_id, role=body.role, actor=actor, now=now
    )


@get("/v1/orgs/{org_id:uuid}/reviews/current", guards=[org_admin("read")])
async def current(*, org_id: FromPath[uuid.UUID], conn: Transaction) -> Response[Review]:
    review = await current_review(conn, org_id)
    if review is None:
        raise NotFound("no access review yet for this organisation")
    return Response(review, headers=_NO_STORE)


@post(
    "/v1/orgs/{org_id:uuid}/reviews",
    status_code=200,
    guards=[org_admin("enroll")],
    opt=documented(body=ReviewDecisions),
)
async def decide(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> Response[Review]:
    body = await read_json(request, ReviewDecisions)
    review = await decide_review(
        conn, org_id=org_id, confirm=body.confirm, remove=body.remove, actor=actor, now=now
    )
    return Response(review, headers=_NO_STORE)


routes = [eligibility_report_route, members, change_status, change_role, current, decide]
