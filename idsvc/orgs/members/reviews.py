"""Access reviews: an approved organisation re-certifies its members every
``[orgs] review_interval``.

A review opens (by the upkeep job) with one item per active or suspended membership, due
``review_window`` later. An org admin confirms or removes each member (API or console);
a removal is a membership removal like any other. The admins are e-mailed once,
``review_reminder`` before the due date, while items are pending. At the due date the
review closes: memberships still pending are suspended, so their tokens stop through the
status list. Every step is audited on the organisation's trail.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from idsvc.audit import record_event
from idsvc.db import Connection, row_to, rows_to
from idsvc.errors import BadRequest, NotFound
from idsvc.mail.senders import Mail, Mailer
from idsvc.orgs.members.errors import LastAdmin, NotPending
from idsvc.orgs.members.service import set_member_status

__all__ = [
    "Review",
    "ReviewItem",
    "close_due_reviews",
    "current_review",
    "decide_review",
    "open_due_reviews",
    "remind_reviewers",
]

_log = logging.getLogger(__name__)

Decision = Literal["pending", "confirmed", "removed", "suspended", "kept"]


class ReviewItem(msgspec.Struct, frozen=True, kw_only=True):
    membership: uuid.UUID
    email: str | None
    display_name: str | None
    role: str
    decision: Decision
    decided_by: str | None
    decided_at: datetime | None


class Review(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    org_id: uuid.UUID
    opened_at: datetime
    due_at: datetime
    closed_at: datetime | None
    items: list[ReviewItem]


class _ReviewRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    org_id: uuid.UUID
    opened_at: datetime
    due_at: datetime
    closed_at: datetime | None


# Approved organisations with no open review whose last one opened an interval ago (or
# never): the upkeep job opens one for each.
_DUE_ORGS = """
SELECT o.id FROM organisations o
WHERE o.status = 'approved'
  AND NOT EXISTS (SELECT 1 FROM access_reviews r WHERE r.org_id = o.id AND r.closed_at IS NULL)
  AND coalesce((SELECT max(r.opened_at) FROM access_reviews r WHERE r.org_id = o.id),
               o.created_at) <= $1::timestamptz - $2::interval
ORDER BY o.id
FOR UPDATE OF o SKIP LOCKED
"""
_OPEN = """
INSERT INTO access_reviews (id, org_id, opened_at, due_at) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING
RETURNING id
"""
_ITEMS_FOR = """
INSERT INTO access_review_items (review_id, membership_id)
SELECT $1, m.id FROM memberships m
WHERE m.org_id = $2 AND m.status IN ('active', 'suspended')
RETURNING membership_id
"""
_CURRENT = """
SELECT id, org_id, opened_at, due_at, closed_at FROM access_reviews
WHERE org_id = $1 ORDER BY opened_at DESC LIMIT 1
"""
_ITEMS = """
SELECT i.membership_id AS membership, coalesce(m.email, lower(u.email)) AS email,
       coalesce(m.display_name, u.display_name) AS display_name, m.role, i.decision,
       i.decided_by, i.decided_at
FROM access_review_items i
JOIN memberships m ON m.id = i.membership_id
LEFT JOIN users u ON u.id = m.user_id
WHERE i.review_id = $1
ORDER BY email NULLS LAST, i.membership_id
"""
_LOCK_OPEN = """
SELECT id, org_id, opened_at, due_at, closed_at FROM access_reviews
WHERE org_id = $1 AND closed_at IS NULL FOR UPDATE
"""
_PENDING = """
SELECT membership_id FROM access_review_items
WHERE review_id = $1 AND decision = 'pending' AND membership_id = ANY($2::uuid[])
"""
_DECIDE = """
UPDATE access_review_items SET decision = $3, decided_by = $4, decided_at = $5
WHERE review_id = $1 AND membership_id = ANY($2::uuid[]) AND decision = 'pending'
"""
_DUE_TO_CLOSE = """
SELECT id, org_id FROM access_reviews
WHERE closed_at IS NULL AND due_at <= $1 ORDER BY due_at FOR UPDATE SKIP LOCKED
"""
_STILL_PENDING = """
SELECT i.membership_id, m.status FROM access_review_items i
JOIN memberships m ON m.id = i.membership_id
WHERE i.review_id = $1 AND i.decision = 'pending'
"""
_CLOSE = "UPDATE access_reviews SET closed_at = $2 WHERE id = $1"
_TO_REMIND = """
SELECT r.id, r.org_id, r.due_at, o.legal_name,
       (SELECT count(*) FROM access_review_items i
        WHERE i.review_id = r.id AND i.decision = 'pending') AS pending
FROM access_reviews r JOIN organisations o ON o.id = r.org_id
WHERE r.closed_at IS NULL AND r.reminded_at IS NULL AND r.due_at - $2::interval <= $1
ORDER BY r.due_at FOR UPDATE OF r SKIP LOCKED
"""
_ADMINS = """
SELECT DISTINCT lower(u.email) AS email
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.role = 'admin' AND m.status = 'active'
  AND u.email IS NOT NULL AND u.email_verified
ORDER BY 1
"""
_REMINDED = "UPDATE access_reviews SET reminded_at = $2 WHERE id = $1"


async def open_due_reviews(
    conn: Connection, *, now: datetime, interval: timedelta, window: timedelta
) -> list[uuid.UUID]:
    """Open a review for every approved organisation that is due one; their ids."""
    opened = []
    for row in await conn.fetch(_DUE_ORGS, now, interval):
        review_id = await conn.fetchval(_OPEN, uuid.uuid4(), row["id"], now, now + window)
        if review_id is None:
            continue  # another instance opened it meanwhile
        members = await conn.fetch(_ITEMS_FOR, review_id, row["id"])
        await record_event(
            conn,
            at=now,
            actor="system",
            action="org.review.opened",
            target=f"org:{row['id']}",
            data={
                "review": str(review_id),
                "members": len(members),
                "due": (now + window).isoformat(),
            },
        )
        opened.append(review_id)
    return opened


async def current_review(conn: Connection, org_id: uuid.UUID) -> Review | None:
    """The open review, else the last closed one; None before the first."""
    row = row_to(_ReviewRow, await conn.fetchrow(_CURRENT, org_id))
    if row is None:
        return None
    items = rows_to(ReviewItem, await conn.fetch(_ITEMS, row.id))
    return Review(
        id=row.id,
        org_id=row.org_id,
        opened_at=row.opened_at,
        due_at=row.due_at,
        closed_at=row.closed_at,
        items=items,
    )


async def decide_review(
    conn: Connection,
    *,
    org_id: uuid.UUID,
    confirm: list[uuid.UUID],
    remove: list[uuid.UUID],
    actor: str,
    now: datetime,
) -> Review:
    """An admin's decisions on pending items of the open review. Ids not pending in it
    (another organisation's, already decided, unknown) are refused whole."""
    if set(confirm) & set(remove):
        raise BadRequest("a member cannot be both confirmed and removed")
    review = row_to(_ReviewRow, await conn.fetchrow(_LOCK_OPEN, org_id))
    if review is None:
        raise NotFound("no access review is open for this organisation")
    wanted = list(dict.fromkeys([*confirm, *remove]))
    pending = {r["membership_id"] for r in await conn.fetch(_PENDING, review.id, wanted)}
    if unknown := set(wanted) - pending:
        raise NotPending(f"not pending in this review: {sorted(map(str, unknown))[0]}")
    if confirm:
        await conn.execute(_DECIDE, review.id, confirm, "confirmed", actor, now)
    for membership_id in remove:
        await set_member_status(
            conn,
            org_id=org_id,
            membership_id=membership_id,
            status="removed",
            actor=actor,
            now=now,
            reason="access review",
        )
    if remove:
        await conn.execute(_DECIDE, review.id, remove, "removed", actor, now)
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="org.review.decided",
        target=f"org:{org_id}",
        data={"review": str(review.id), "confirmed": len(confirm), "removed": len(remove)},
    )
    found = await current_review(conn, org_id)
    assert found is not None
    return found


async def close_due_reviews(conn: Connection, *, now: datetime) -> int:
    """Close every review past its due date; pending memberships are suspended."""
    closed = 0
    for review in await conn.fetch(_DUE_TO_CLOSE, now):
        try:
            async with conn.transaction():  # a savepoint: one organisation's failure is its own
                outcome = await _close_one(conn, review["id"], review["org_id"], now=now)
        except Exception:  # the others are still closed; this one is tried next hour
            _log.exception("access review not closed", extra={"review": str(review["id"])})
            continue
        await record_event(
            conn,
            at=now,
            actor="system",
            action="org.review.closed",
            target=f"org:{review['org_id']}",
            data={"review": str(review["id"]), **outcome},
        )
        closed += 1
    return closed


async def _close_one(
    conn: Connection, review_id: uuid.UUID, org_id: uuid.UUID, *, now: datetime
) -> dict[str, int]:
    """Each pending item gets what happened to it: suspended now, already suspended or
    removed outside the review, or kept (the organisation's last active admin who has
    signed in: an unclaimed admin address is suspended like anyone, and never keeps it)."""
    outcome = {"suspended": 0, "kept_last_admin": 0}
    for item in await conn.fetch(_STILL_PENDING, review_id):
        decision = item["status"] if item["status"] in ("suspended", "removed") else "suspended"
        if item["status"] == "active":
            try:
                async with conn.transaction():
                    await set_member_status(
                        conn,
                        org_id=org_id,
                        membership_id=item["membership_id"],
                        status="suspended",
                        actor="system",
                        now=now,
                        reason="access review not completed",
                    )
                outcome["suspended"] += 1
            except LastAdmin:
                # The organisation's last admin stays (orgs.members.last_admin): who would
                # otherwise answer the next review? Recorded as kept.
                decision = "kept"
                outcome["kept_last_admin"] += 1
        await conn.execute(_DECIDE, review_id, [item["membership_id"]], decision, "system", now)
    await conn.execute(_CLOSE, review_id, now)
    return outcome


async def remind_reviewers(
    conn: Connection, mailer: Mailer | None, *, now: datetime, ahead: timedelta, issuer: str
) -> int:
    """E-mail the admins of organisations whose open review is due within ``ahead`` and
    still has pending members, once per review."""
    reminded = 0
    for review in await conn.fetch(_TO_REMIND, now, ahead):
        # Mail is sent within the run's transaction; a failed send returns False (the
        # mailer never raises), so one bad address cannot undo the other organisations.
        if review["pending"] == 0:
            await conn.execute(_REMINDED, review["id"], now)
            continue
        admins = [r["email"] for r in await conn.fetch(_ADMINS, review["org_id"])]
        sent = 0
        for email in admins if mailer is not None else []:
            mail = Mail(
                to=email,
                subject=f"Access review for {review['legal_name']} due {review['due_at']:%Y-%m-%d}",
                text=(
                    f"{review['pending']} member(s) of {review['legal_name']} still need your "
                    f"confirmation. Members not confirmed by {review['due_at']:%Y-%m-%d %H:%M} UTC "
                    "will be suspended.\n\n"
                    f"Review them at {issuer}/console/my-orgs/{review['org_id']}/review\n"
                ),
            )
            sent += await mailer.send(mail) if mailer is not None else 0
        await conn.execute(_REMINDED, review["id"], now)
        await record_event(
            conn,
            at=now,
            actor="system",
            action="org.review.reminded",
            target=f"org:{review['org_id']}",
            data={"review": str(review["id"]), "admins": len(admins), "sent": sent},
        )
        reminded += 1
    return reminded
