"""An organisation's eligibility report for its compliance officer: every member against
the organisation's own audiences, with only the coarse states an org admin may see
(orgs.disclosure), as JSON or as CSV with spreadsheet formulas made inert."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime

import msgspec

from idsvc.db import Connection
from idsvc.orgs.members.member_list import MemberQuery, MemberRow, list_members
from idsvc.policy.model import PolicySettings
from idsvc.settings import ScreeningSettings
from idsvc.spreadsheet_safe import inert_cell

__all__ = ["EligibilityReport", "ReportRow", "eligibility_report", "report_csv"]

_PAGE_SIZE = 200


class ReportRow(msgspec.Struct, frozen=True, kw_only=True):
    membership: uuid.UUID
    email: str | None
    display_name: str | None
    role: str
    status: str
    signed_in: bool
    enrolled: bool
    # audience -> eligible / under_review / needs_verification / not_eligible, for the
    # organisation's own audiences (none when [orgs] admin_sees_eligibility is false)
    states: dict[str, str]
    # The member's item in the latest access review: pending, confirmed, removed (never
    # listed here), suspended; None when no review has covered them.
    last_review: str | None = None


class EligibilityReport(msgspec.Struct, frozen=True, kw_only=True):
    organisation: uuid.UUID
    generated_at: datetime
    audiences: list[str]
    members: list[ReportRow]


_LAST_REVIEW = """
SELECT i.membership_id, i.decision FROM access_review_items i
WHERE i.review_id = (SELECT id FROM access_reviews WHERE org_id = $1
                     ORDER BY opened_at DESC LIMIT 1)
"""


def _row(member: MemberRow, reviewed: dict[uuid.UUID, str]) -> ReportRow:
    return ReportRow(
        membership=member.id,
        email=member.email,
        display_name=member.display_name,
        role=member.role,
        status=member.status,
        signed_in=member.signed_in,
        enrolled=member.enrolled,
        states={e.audience: e.state for e in member.eligibility},
        last_review=reviewed.get(member.id),
    )


async def eligibility_report(
    conn: Connection,
    org_id: uuid.UUID,
    *,
    policies: dict[str, PolicySettings],
    screening: ScreeningSettings,
    sees_eligibility: bool,
    now: datetime,
) -> EligibilityReport:
    """Every member that is not removed, page by page (keyset: fine at tens of thousands)."""
    reviewed = {r["membership_id"]: r["decision"] for r in await conn.fetch(_LAST_REVIEW, org_id)}
    rows: list[ReportRow] = []
    audiences: tuple[str, ...] = ()
    after: str | None = None
    while True:
        page = await list_members(
            conn,
            org_id,
            MemberQuery(after=after, limit=_PAGE_SIZE),
            policies=policies,
            screening=screening,
            sees_eligibility=sees_eligibility,
            now=now,
        )
        audiences = page.audiences
        rows.extend(_row(m, reviewed) for m in page.members)
        if page.next is None:
            break
        after = page.next
    return EligibilityReport(
        organisation=org_id, generated_at=now, audiences=list(audiences), members=rows
    )


def report_csv(report: EligibilityReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "email",
            "display_name",
            "role",
            "status",
            "signed_in",
            "enrolled",
            "last_review",
            *report.audiences,
        ]
    )
    for row in report.members:
        writer.writerow(
            [
                inert_cell(row.email),
                inert_cell(row.display_name),
                row.role,
                row.status,
                "yes" if row.signed_in else "no",
                "yes" if row.enrolled else "no",
                row.last_review or "",
                *(row.states.get(audience, "") for audience in report.audiences),
            ]
        )
    return out.getvalue()
