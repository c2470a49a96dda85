"""Linking a new identity to a signed-in account: asked at the callback (here), answered
by the browser that started the sign-in (:func:`idsvc.oidc.service.answer_link`; see
:mod:`idsvc.oidc.pending_links`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from idsvc.accounts.person_match import PersonMismatch, check_person
from idsvc.audit import record_event
from idsvc.db import Connection
from idsvc.oidc.errors import SignInRefused
from idsvc.oidc.pending_links import VerifiedIdentity, keep_pending_link

__all__ = ["ask_to_link"]


async def ask_to_link(
    conn: Connection,
    identity: VerifiedIdentity,
    *,
    user_id: uuid.UUID,
    browser_binding: str,
    now: datetime,
) -> None:
    """Keep the identity for the browser to confirm, in the callback's transaction."""
    try:
        # Refused now rather than after the person confirms: it would be refused then.
        await check_person(
            conn,
            user_id=user_id,
            provider=identity.provider,
            subject=identity.subject,
            fingerprint=identity.person,
        )
    except PersonMismatch:
        raise SignInRefused("person_mismatch", "the identity names another person") from None
    await keep_pending_link(
        conn, browser_binding=browser_binding, user_id=user_id, identity=identity, now=now
    )
    await record_event(
        conn,
        at=now,
        actor=f"user:{user_id}",
        action="identity.link_requested",
        target=f"user:{user_id}",
        data={"provider": identity.provider},
    )
