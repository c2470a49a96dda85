"""An organisation's members for its admins: searchable, filterable, in keyset pages (fast
at tens of thousands of members), each with, per audience of the organisation's own, one
coarse state (:mod:`idsvc.orgs.disclosure`) — never a reason, nationality or evidence, and
nothing about other audiences or organisations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from idsvc.db import Connection
from idsvc.evidence.ledger import load_facts_of_many
from idsvc.orgs.disclosure import AdminState, admin_state, as_member_of, audiences_for_admins
from idsvc.orgs.records import MemberRole, MemberSource, MemberStatus
from idsvc.policy.decision import Deny, decide
from idsvc.policy.model import PolicySettings
from idsvc.settings import ScreeningSettings

__all__ = ["MemberPage", "MemberQuery", "MemberRow", "list_members"]


class MemberQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    q: Annotated[str, msgspec.Meta(max_length=320)] = ""
    status: MemberStatus | None = None
    role: MemberRole | None = None
    # Keyset cursor: the sort key of the last row of the previous page.
    after: Annotated[str, msgspec.Meta(max_length=400)] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50


class Eligibility(msgspec.Struct, frozen=True, kw_only=True):
    audience: str
    eligible: bool
    state: AdminState


class MemberRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    email: str | None
    display_name: str | None
    role: MemberRole
    status: MemberStatus
    source: MemberSource
    signed_in: bool
    # An active membership held by a person who has signed in.
    enrolled: bool
    # Per audience of the organisation's own; empty when [orgs] admin_sees_eligibility is
    # false.
    eligibility: tuple[Eligibility, ...]


class MemberPage(msgspec.Struct, frozen=True, kw_only=True):
    members: tuple[MemberRow, ...]
    next: str | None
    # The audiences each member's eligibility is given for (docs/privacy.md).
    audiences: tuple[str, ...] = ()


# Sorted by e-mail (the user's, for members enrolled by account), then id; the cursor is
# "<email>|<id>". Removed memberships are history, not members.
_PAGE = """
SELECT m.id, coalesce(m.email, lower(u.email)) AS email, coalesce(m.display_name, u.display_name)
       AS display_name, m.role, m.status, m.source, m.user_id
FROM memberships m LEFT JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.status <> 'removed'
  AND ($2 = '' OR coalesce(m.email, lower(u.email)) LIKE $2 || '%'
       OR lower(coalesce(m.display_name, u.display_name, '')) LIKE '%' || $2 || '%')
  AND ($3::text IS NULL OR m.status = $3)
  AND ($4::text IS NULL OR m.role = $4)
  AND ($5::text IS NULL
       OR (coalesce(m.email, lower(u.email), ''), m.id) > ($5, $6::uuid))
ORDER BY coalesce(m.email, lower(u.email), ''), m.id
LIMIT $7
"""


_PROGRAMS = "SELECT programs FROM organisations WHERE id = $1"


def _like(text: str) -> str:
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_members(
    conn: Connection,
    org_id: uuid.UUID,
    query: MemberQuery,
    *,
    policies: dict[str, PolicySettings],
    screening: ScreeningSettings,
    sees_eligibility: bool,
    now: datetime,
) -> MemberPage:
    after_email, after_id = None, None
    if query.after:
        after_email, _, raw_id = query.after.rpartition("|")
        try:
            after_id = uuid.UUID(raw_id)
        except ValueError:
            after_email, after_id = None, None
    rows = await conn.fetch(
        _PAGE, org_id, _like(query.q.strip()), query.status, query.role, after_email,
        after_id, query.limit + 1,
    )  # fmt: skip
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    shown = (
        audiences_for_admins(policies.values(), await conn.fetchval(_PROGRAMS, org_id) or ())
        if sees_eligibility
        else []
    )
    facts = await load_facts_of_many(
        conn,
        [r["user_id"] for r in rows if r["user_id"]] if shown else [],
        screening=screening,
        now=now,
    )
    members = []
    for r in rows:
        person = facts.get(r["user_id"]) if r["user_id"] else None
        eligibility = []
        for policy in shown:
            reasons: tuple[str, ...] = ("not_signed_in",)
            if person is not None:
                decision = decide(policy, as_member_of(person, org_id), now)
                reasons = decision.reasons if isinstance(decision, Deny) else ()
            # The reasons stop here: only the coarse state leaves (orgs.disclosure).
            state = admin_state(reasons)
            eligibility.append(
                Eligibility(audience=policy.audience, eligible=state == "eligible", state=state)
            )
        members.append(
            MemberRow(
                id=r["id"],
                email=r["email"],
                display_name=r["display_name"],
                role=r["role"],
                status=r["status"],
                source=r["source"],
                signed_in=r["user_id"] is not None,
                enrolled=r["user_id"] is not None and r["status"] == "active",
                eligibility=tuple(eligibility),
            )
        )
    cursor = f"{rows[-1]['email'] or ''}|{rows[-1]['id']}" if more and rows else None
    return MemberPage(
        members=tuple(members), next=cursor, audiences=tuple(p.audience for p in shown)
    )
