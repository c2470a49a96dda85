"""E-mailing people before a verification they depend on expires.

Their U.S.-person basis and nationalities decide every token; when they lapse the person
is refused until they verify again, which is better done before than after. A person is
e-mailed once per expiring attestation, ``[reminders] expiry_notice`` before it expires,
at the address their provider verified, unless they opted out on /me. The e-mail says when
and links to the sign-in page; it names no nationality.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from idsvc.audit import record_event
from idsvc.db import Connection
from idsvc.mail.senders import Mail, Mailer

__all__ = ["send_expiry_reminders", "set_expiry_reminders"]

# Per person: the current attestations that decide tokens, expiring within the notice and
# not yet reminded of, for people who want reminders and have a verified address. One
# e-mail covers them all.
_DUE = """
SELECT a.user_id, min(a.expires_at) AS expires_at, array_agg(a.id) AS attestations,
       lower(u.email) AS email
FROM attestations a
JOIN users u ON u.id = a.user_id
WHERE a.kind IN ('us_person_basis', 'nationalities')
  AND a.superseded_by IS NULL AND a.revoked_at IS NULL
  AND a.expires_at > $1 AND a.expires_at <= $1 + $2::interval
  AND u.status = 'active' AND u.expiry_reminders
  AND u.email IS NOT NULL AND u.email_verified
  AND NOT EXISTS (SELECT 1 FROM expiry_reminders r WHERE r.attestation_id = a.id)
GROUP BY a.user_id, u.email
ORDER BY a.user_id
LIMIT 1000
"""
# Claimed before sending: another instance's run waits on the rows, then skips them.
_CLAIM = """
INSERT INTO expiry_reminders (attestation_id, user_id, sent_at)
SELECT unnest($1::uuid[]), $2, $3
ON CONFLICT DO NOTHING
RETURNING attestation_id
"""
_UNCLAIM = "DELETE FROM expiry_reminders WHERE attestation_id = ANY($1::uuid[])"
_SET = "UPDATE users SET expiry_reminders = $2 WHERE id = $1 AND expiry_reminders <> $2"


async def send_expiry_reminders(
    conn: Connection, mailer: Mailer, *, now: datetime, notice: timedelta, issuer: str
) -> int:
    """One run of the daily job; how many people were e-mailed. A reminder that could not
    be delivered is not recorded, so the next run tries again."""
    sent = 0
    for row in await conn.fetch(_DUE, now, notice):
        mail = Mail(
            to=row["email"],
            subject="Your identity verification expires soon",
            text=(
                f"The identity verification on your account expires on "
                f"{row['expires_at']:%Y-%m-%d}. After that, services that need it will refuse "
                "you until you verify again.\n\n"
                f"Verify again now: {issuer}/login\n\n"
                f"You can turn these reminders off on {issuer}/me\n"
            ),
        )
        claimed = [r["attestation_id"] for r in await conn.fetch(
            _CLAIM, row["attestations"], row["user_id"], now
        )]  # fmt: skip
        if not claimed:
            continue
        if not await mailer.send(mail):
            await conn.execute(_UNCLAIM, claimed)  # the next run tries again
            continue
        await record_event(
            conn,
            at=now,
            actor="system",
            action="person.expiry_reminded",
            target=f"user:{row['user_id']}",
            data={
                "attestations": [str(a) for a in claimed],
                "expires_at": row["expires_at"].isoformat(),
            },
        )
        sent += 1
    return sent


async def set_expiry_reminders(
    conn: Connection, *, user_id: uuid.UUID, wanted: bool, now: datetime
) -> None:
    """The person's own choice on /me; audited when it changes."""
    if await conn.execute(_SET, user_id, wanted) == "UPDATE 1":
        await record_event(
            conn,
            at=now,
            actor=f"user:{user_id}",
            action="person.expiry_reminders." + ("on" if wanted else "off"),
            target=f"user:{user_id}",
        )
