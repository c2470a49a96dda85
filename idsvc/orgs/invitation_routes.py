"""Invitations over HTTP: admins invite by e-mail, resend, withdraw; the invitee opens the
link, signs in, and accepts (a page that works without JavaScript, and a JSON route)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Request, delete, get, post
from litestar.params import FromPath
from litestar.response import Template

from idsvc.accounts.session_guard import current_session, require_session
from idsvc.accounts.sessions import csrf_token, csrf_valid
from idsvc.db import Connection
from idsvc.errors import (
    Conflict,
    CsrfFailed,
    IdsvcError,
    SignInRequired,
    Unavailable,
)
from idsvc.http.body import read_json
from idsvc.http.openapi import documented
from idsvc.http.pages import page
from idsvc.mail.senders import Mail, Mailer
from idsvc.orgs.admin_guard import org_admin_user
from idsvc.orgs.errors import InvalidEmail
from idsvc.orgs.invitations import (
    accept_invitation,
    invite,
    mark_sent,
    renew_code,
    revoke_invitation,
    view_invitation,
)
from idsvc.orgs.records import MemberRole
from idsvc.runtime import Runtime, RuntimeDependency

__all__ = ["invitation_routes", "send_invitations"]

_EMAIL = re.compile(r"^[^@\s,;<>]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320)]


class InviteRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    emails: Annotated[list[Email], msgspec.Meta(min_length=1, max_length=500)]
    role: MemberRole = "member"


class InviteOutcome(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    membership_id: uuid.UUID | None
    outcome: str  # "sent", "not_sent" (retry with resend), "already_member"


class AcceptRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


def _mailer(runtime: Runtime) -> Mailer:
    if runtime.mailer is None:
        raise Unavailable("e-mail is not configured ([smtp] host): invitations cannot be sent")
    return runtime.mailer


def _mail(runtime: Runtime, *, to: str, org: str, code: str) -> Mail:
    link = f"{runtime.settings.service.issuer}/invitations/{code}"
    days = runtime.settings.config.smtp.invitation_lifetime // 86_400
    return Mail(
        to=to,
        subject=f"Invitation to join {org} on idsvc",
        text=f"You are invited to join {org}.\n\nOpen {link}\nand sign in with an account "
        f"for {to}. The invitation expires in {days} days and works once.\n",
    )


_ORG_NAME = "SELECT legal_name FROM organisations WHERE id = $1"


async def _send(
    runtime: Runtime, mailer: Mailer, sent: list[tuple[uuid.UUID, Mail]]
) -> set[uuid.UUID]:
    """After the commit: a failed send leaves the invitation for a resend."""
    delivered = {membership for membership, mail in sent if await mailer.send(mail)}
    if delivered:
        async with runtime.pool.acquire() as conn, conn.transaction():
            for membership in delivered:
                await mark_sent(conn, membership, runtime.clock())
    return delivered


async def send_invitations(
    runtime: Runtime,
    org_id: uuid.UUID,
    emails: list[str],
    *,
    role: MemberRole,
    invited_by: uuid.UUID,
) -> list[InviteOutcome]:
    """Invite every address (already-members are reported, not errors), commit, then send."""
    mailer = _mailer(runtime)
    addresses = list(dict.fromkeys(e.strip().lower() for e in emails))
    bad = [e for e in addresses if not _EMAIL.match(e)]
    if bad:
        raise InvalidEmail(f"not e-mail addresses: {', '.join(bad[:5])}", invalid=bad[:50])
    if not 0 < len(addresses) <= 500:
        raise InvalidEmail("invite 1 to 500 addresses at once")
    outcomes: dict[str, uuid.UUID | None] = {}
    mails: list[tuple[uuid.UUID, Mail]] = []
    lifetime = runtime.settings.config.smtp.invitation_lifetime
    async with runtime.pool.acquire() as conn, conn.transaction():
        org_name: str = await conn.fetchval(_ORG_NAME, org_id)
        for email in addresses:
            membership = await _invite_one(
                conn, org_id, email, role=role, user=invited_by, lifetime=lifetime, runtime=runtime
            )
            outcomes[email] = membership[0] if membership else None
            if membership:
                mails.append(
                    (membership[0], _mail(runtime, to=email, org=org_name, code=membership[1]))
                )
    delivered = await _send(runtime, mailer, mails)
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


@post("/v1/orgs/{org_id:uuid}/invitations", status_code=201, opt=documented(body=InviteRequest))
async def create_invitations(
    request: Request[Any, Any, Any], org_id: FromPath[uuid.UUID], runtime: RuntimeDependency
) -> list[InviteOutcome]:
    user = await org_admin_user(request, runtime, org_id, changing=True, action="enroll")
    _mailer(runtime)
    body = await read_json(request, InviteRequest)
    return await send_invitations(runtime, org_id, body.emails, role=body.role, invited_by=user)


async def _invite_one(
    conn: Connection,
    org_id: uuid.UUID,
    email: str,
    *,
    role: MemberRole,
    user: uuid.UUID,
    lifetime: int,
    runtime: Runtime,
) -> tuple[uuid.UUID, str] | None:
    try:
        async with conn.transaction():  # a savepoint: one existing member spoils nothing
            return await invite(
                conn,
                org_id=org_id,
                email=email,
                role=role,
                invited_by=user,
                lifetime=lifetime,
                now=runtime.clock(),
            )
    except Conflict:
        return None


@post("/v1/orgs/{org_id:uuid}/invitations/{membership_id:uuid}/resend", status_code=200)
async def resend(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> InviteOutcome:
    user = await org_admin_user(request, runtime, org_id, changing=True, action="enroll")
    mailer = _mailer(runtime)
    async with runtime.pool.acquire() as conn, conn.transaction():
        org_name: str = await conn.fetchval(_ORG_NAME, org_id)
        code, email = await renew_code(
            conn,
            org_id=org_id,
            membership_id=membership_id,
            lifetime=runtime.settings.config.smtp.invitation_lifetime,
            actor=f"user:{user}",
            now=runtime.clock(),
        )
    delivered = await _send(
        runtime, mailer, [(membership_id, _mail(runtime, to=email, org=org_name, code=code))]
    )
    return InviteOutcome(
        email=email, membership_id=membership_id, outcome="sent" if delivered else "not_sent"
    )


@delete("/v1/orgs/{org_id:uuid}/invitations/{membership_id:uuid}", status_code=204)
async def withdraw(
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    runtime: RuntimeDependency,
) -> None:
    user = await org_admin_user(request, runtime, org_id, changing=True, action="revoke_access")
    async with runtime.pool.acquire() as conn, conn.transaction():
        await revoke_invitation(
            conn,
            org_id=org_id,
            membership_id=membership_id,
            actor=f"user:{user}",
            now=runtime.clock(),
        )


@post("/v1/invitations/accept", status_code=200, opt=documented(body=AcceptRequest))
async def accept_api(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> dict[str, str]:
    session = await require_session(request, runtime, changing=True)
    body = await read_json(request, AcceptRequest)
    async with runtime.pool.acquire() as conn, conn.transaction():
        invitation = await accept_invitation(
            conn, code=body.code, user_id=session.user_id, now=runtime.clock()
        )
    return {
        "org_id": str(invitation.org_id),
        "membership_id": str(invitation.membership_id),
        "status": "active",
    }


@get("/invitations/{code:str}", include_in_schema=False)
async def invitation_page(
    request: Request[Any, Any, Any], code: FromPath[str], runtime: RuntimeDependency
) -> Template:
    session = await current_session(request, runtime)
    async with runtime.pool.acquire() as conn:
        invitation = await view_invitation(conn, code[:128], runtime.clock())
    return page(
        "invitation.html",
        title="Invitation",
        status=200 if invitation else 404,
        invitation=invitation,
        signed_in=session is not None,
        csrf_token=csrf_token(session) if session else "",
        providers=list(runtime.signin.providers.values()),
        return_to=quote(f"/invitations/{code[:128]}", safe=""),
    )


@post("/invitations/{code:str}", include_in_schema=False, status_code=200)
async def invitation_accept_page(
    request: Request[Any, Any, Any], code: FromPath[str], runtime: RuntimeDependency
) -> Template:
    session = await current_session(request, runtime)
    if session is None:
        raise SignInRequired("sign in first")
    form = await request.form()
    presented = form.get("csrf_token")
    if not csrf_valid(session, presented if isinstance(presented, str) else None):
        raise CsrfFailed("the form is stale or came from another site")
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            invitation = await accept_invitation(
                conn, code=code[:128], user_id=session.user_id, now=runtime.clock()
            )
    except IdsvcError as exc:
        return page(
            "invitation.html",
            title="Invitation",
            status=exc.status,
            invitation=None,
            refused=exc.detail,
            signed_in=True,
            csrf_token=csrf_token(session),
            providers=[],
            return_to="",
        )
    return page(
        "invitation.html",
        title="Invitation",
        invitation=invitation,
        accepted=True,
        signed_in=True,
        csrf_token=csrf_token(session),
        providers=[],
        return_to="",
    )


invitation_routes = [
    create_invitations,
    resend,
    withdraw,
    accept_api,
    invitation_page,
    invitation_accept_page,
]
