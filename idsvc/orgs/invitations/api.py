"""Invitations over HTTP: admins invite by e-mail, resend, withdraw; the invitee opens the
link, signs in, and accepts (a page that works without JavaScript, and a JSON route)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Request, delete, get, post
from litestar.params import FromPath
from litestar.response import Template

from idsvc.accounts.guards import signed_in, signed_in_form
from idsvc.accounts.sessions import Session, csrf_token
from idsvc.clock import Clock
from idsvc.config.providers import ProviderSettings
from idsvc.db.database import Database
from idsvc.errors import IdsvcError
from idsvc.http.body import read_json
from idsvc.http.inject import Actor, Injected, Now, Transaction
from idsvc.http.openapi import documented
from idsvc.http.pages import page
from idsvc.mail.senders import Mailer
from idsvc.orgs.guards import org_admin
from idsvc.orgs.invitations.sending import (
    InvitationMail,
    InviteOutcome,
    require_mailer,
    resend_invitation,
    send_invitations,
)
from idsvc.orgs.invitations.service import accept_invitation, revoke_invitation, view_invitation
from idsvc.orgs.records import MemberRole
from idsvc.settings import Settings

__all__ = ["routes"]

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320)]


class InviteRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    emails: Annotated[list[Email], msgspec.Meta(min_length=1, max_length=500)]
    role: MemberRole = "member"


class AcceptRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


# Sending writes, commits and only then mails (orgs.invitations.sending), so these two
# routes take the database rather than the request's transaction.
@post(
    "/v1/orgs/{org_id:uuid}/invitations",
    status_code=201,
    guards=[org_admin("enroll")],
    opt=documented(body=InviteRequest),
)
async def create_invitations(
    *,
    request: Request[Any, Any, Any],
    org_id: FromPath[uuid.UUID],
    session: Injected[Session],
    database: Injected[Database],
    settings: Injected[Settings],
    mailer: Injected[Mailer | None],
    clock: Injected[Clock],
) -> list[InviteOutcome]:
    context = InvitationMail(database=database, settings=settings, mailer=mailer, clock=clock)
    # Before the body: without e-mail there is nothing to correct in it.
    require_mailer(context)
    body = await read_json(request, InviteRequest)
    return await send_invitations(
        context, org_id, body.emails, role=body.role, invited_by=session.user_id
    )


@post(
    "/v1/orgs/{org_id:uuid}/invitations/{membership_id:uuid}/resend",
    status_code=200,
    guards=[org_admin("enroll")],
)
async def resend(
    *,
    org_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    database: Injected[Database],
    settings: Injected[Settings],
    mailer: Injected[Mailer | None],
    clock: Injected[Clock],
    actor: Actor,
) -> InviteOutcome:
    context = InvitationMail(database=database, settings=settings, mailer=mailer, clock=clock)
    return await resend_invitation(context, org_id, membership_id, actor=actor)


@delete(
    "/v1/orgs/{org_id:uuid}/invitations/{membership_id:uuid}",
    status_code=204,
    guards=[org_admin("revoke_access")],
)
async def withdraw(
    *,
    org_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    conn: Transaction,
    now: Now,
    actor: Actor,
) -> None:
    await revoke_invitation(conn, org_id=org_id, membership_id=membership_id, actor=actor, now=now)


@post(
    "/v1/invitations/accept",
    status_code=200,
    guards=[signed_in],
    opt=documented(body=AcceptRequest),
)
async def accept_api(
    *,
    request: Request[Any, Any, Any],
    session: Injected[Session],
    conn: Transaction,
    now: Now,
) -> dict[str, str]:
    body = await read_json(request, AcceptRequest)
    invitation = await accept_invitation(conn, code=body.code, user_id=session.user_id, now=now)
    return {
        "org_id": str(invitation.org_id),
        "membership_id": str(invitation.membership_id),
        "status": "active",
    }


@get("/invitations/{code:str}", include_in_schema=False)
async def invitation_page(
    *,
    code: FromPath[str],
    maybe_session: Injected[Session | None],
    providers: Injected[dict[str, ProviderSettings]],
    conn: Transaction,
    now: Now,
) -> Template:
    invitation = await view_invitation(conn, code[:128], now)
    return page(
        "invitation.html",
        title="Invitation",
        status=200 if invitation else 404,
        invitation=invitation,
        signed_in=maybe_session is not None,
        csrf_token=csrf_token(maybe_session) if maybe_session else "",
        providers=list(providers.values()),
        return_to=quote(f"/invitations/{code[:128]}", safe=""),
    )


@post(
    "/invitations/{code:str}",
    include_in_schema=False,
    status_code=200,
    guards=[signed_in_form],
)
async def invitation_accept_page(
    *,
    code: FromPath[str],
    session: Injected[Session],
    conn: Transaction,
    now: Now,
) -> Template:
    try:
        # A savepoint: a refusal is answered as a page (the request's transaction then
        # commits), so what the refused acceptance wrote must roll back here.
        async with conn.transaction():
            invitation = await accept_invitation(
                conn, code=code[:128], user_id=session.user_id, now=now
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


routes = [
    create_invitations,
    resend,
    withdraw,
    accept_api,
    invitation_page,
    invitation_accept_page,
]
