"""Sending invitations: the use cases that write invitations, commit, and only then
e-mail their codes (the API and the console both call these).

A mail is sent after the commit, so a failed send never leaves a code that exists only in
an e-mail; the invitation stays for a resend, and is marked sent only once delivered. That
is why these use cases open their own transactions instead of running in the request's.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Protocol

import msgspec

from idsvc.accounts.addresses import AddressRefused, address_key
from idsvc.clock import Clock
from idsvc.db import Connection
from idsvc.db.database import Database
from idsvc.errors import Conflict, Unavailable
from idsvc.mail.senders import Mail, Mailer
from idsvc.orgs.invitations.errors import InvalidEmail
from idsvc.orgs.invitations.service import invite, mark_sent, renew_code
from idsvc.orgs.records import MemberRole
from idsvc.settings import Settings

__all__ = [
    "InvitationMail",
    "InviteOutcome",
    "MailingContext",
    "require_mailer",
    "resend_invitation",
    "send_invitations",
]

_EMAIL = re.compile(r"^[^@\s,;<>]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_ORG_NAME = "SELECT legal_name FROM organisations WHERE id = $1"


class InviteOutcome(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    membership_id: uuid.UUID | None
    outcome: str  # "sent", "not_sent" (retry with resend), "already_member"


class MailingContext(Protocol):
    """What sending needs: the database, the settings, the mailer and the clock (an
    :class:`InvitationMail` of the caller's injected services)."""

    @property
    def database(self) -> Database: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def mailer(self) -> Mailer | None: ...

    @property
    def clock(self) -> Clock: ...


@dataclass(frozen=True, slots=True)
class InvitationMail:
    database: Database
    settings: Settings
    mailer: Mailer | None
    clock: Clock


def require_mailer(context: MailingContext) -> Mailer:
    if context.mailer is None:
        raise Unavailable("e-mail is not configured ([smtp] host): invitations cannot be sent")
    return context.mailer


def _mail(context: MailingContext, *, to: str, org: str, code: str) -> Mail:
    link = f"{context.settings.service.issuer}/invitations/{code}"
    days = context.settings.config.smtp.invitation_lifetime // 86_400
    return Mail(
        to=to,
        subject=f"Invitation to join {org} on idsvc",
        text=f"You are invited to join {org}.\n\nOpen {link}\nand sign in with an account "
        f"for {to}. The invitation expires in {days} days and works once.\n",
    )


async def _send(
    context: MailingContext, mailer: Mailer, sent: list[tuple[uuid.UUID, Mail]]
) -> set[uuid.UUID]:
    """After the commit: a failed send leaves the invitation for a resend."""
    delivered = {membership for membership, mail in sent if await mailer.send(mail)}
    if delivered:
        async with context.database.transaction() as conn:
            for membership in delivered:
                await mark_sent(conn, membership, context.clock())
    return delivered


def _checked_addresses(emails: list[str]) -> list[str]:
    """The addresses' keys, in order, each once; or InvalidEmail naming every bad entry by
    its index (``emails[2]``) and saying what is wrong with it."""
    keys: list[str] = []
    invalid: list[str] = []
    problems: list[dict[str, str]] = []
    for index, email in enumerate(emails):
        text = email.strip()
        try:
            key = address_key(text)
            if not _EMAIL.match(key):
                raise AddressRefused("is not an e-mail address")
        except AddressRefused as exc:
            invalid.append(text)
            problems.append({"field": f"emails[{index}]", "message": exc.reason})
            continue
        keys.append(key)
    if problems:
        detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        raise InvalidEmail(detail, invalid=invalid[:50], errors=problems[:50])
    return list(dict.fromkeys(keys))


async def send_invitations(
    context: MailingContext,
    org_id: uuid.UUID,
    emails: list[str],
    *,
    role: MemberRole,
    invited_by: uuid.UUID,
) -> list[InviteOutcome]:
    """Invite every address (already-members are reported, not errors), commit, then send."""
    mailer = require_mailer(context)
    addresses = _checked_addresses(emails)
    if not 0 < len(addresses) <= 500:
        raise InvalidEmail("invite 1 to 500 addresses at once")
    outcomes: dict[str, uuid.UUID | None] = {}
    mails: list[tuple[uuid.UUID, Mail]] = []
    async with context.database.transaction() as conn:
        org_name: str = await conn.fetchval(_ORG_NAME, org_id)
        for email in addresses:
            membership = await _invite_one(conn, context, org_id, email, role=role, user=invited_by)
            outcomes[email] = membership[0] if membership else None
            if membership:
                mails.append(
                    (membership[0], _mail(context, to=email, org=org_name, code=membership[1]))
                )
    delivered = await _send(context, mailer, mails)
    return [
        InviteOutcome(
            email=email,
            membership_id=membership,
            outcome="already_member"
            if membership is None
            else ("sent" if membership in delivered else "not_sent"),
        )
        for email, membership in outcomes.items()
    ]


async def _invite_one(
    conn: Connection,
    context: MailingContext,
    org_id: uuid.UUID,
    email: str,
    *,
    role: MemberRole,
    user: uuid.UUID,
) -> tuple[uuid.UUID, str] | None:
    try:
        async with conn.transaction():  # a savepoint: one existing member spoils nothing
            return await invite(
                conn,
                org_id=org_id,
                email=email,
                role=role,
                invited_by=user,
                lifetime=context.settings.config.smtp.invitation_lifetime,
                now=context.clock(),
            )
    except Conflict:
        return None


async def resend_invitation(
    context: MailingContext, org_id: uuid.UUID, membership_id: uuid.UUID, *, actor: str
) -> InviteOutcome:
    """A new code for a pending invitation (the old one stops working), committed, then
    sent."""
    mailer = require_mailer(context)
    async with context.database.transaction() as conn:
        org_name: str = await conn.fetchval(_ORG_NAME, org_id)
        code, email = await renew_code(
            conn,
            org_id=org_id,
            membership_id=membership_id,
            lifetime=context.settings.config.smtp.invitation_lifetime,
            actor=actor,
            now=context.clock(),
        )
    delivered = await _send(
        context, mailer, [(membership_id, _mail(context, to=email, org=org_name, code=code))]
    )
    return InviteOutcome(
        email=email, membership_id=membership_id, outcome="sent" if delivered else "not_sent"
    )
