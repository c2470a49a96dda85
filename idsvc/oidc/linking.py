"""Linking a new identity to a signed-in account: asked at the callback, answered by the
browser that started the sign-in (see :mod:`idsvc.oidc.pending_links`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from idsvc.accounts.person_match import PersonMismatch, check_person
from idsvc.audit import record_event
from idsvc.db import Connection, Pool
from idsvc.oidc.attach import attach_identity
from idsvc.oidc.pending_links import VerifiedIdentity, keep_pending_link, take_pending_link
from idsvc.oidc.refusal import SignInRefused, audit_refusal

__all__ = ["answer_link", "ask_to_link"]


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


async def answer_link(
    pool: Pool,
    *,
    browser_binding: str,
    user_id: uuid.UUID,
    confirmed: bool,
    now: datetime,
    screening_threshold: float,
) -> int:
    """Link (or drop) the identity this browser's sign-in brought back; returns how many
    attestations were recorded. Raises SignInRefused (already audited)."""
    async with pool.acquire() as conn, conn.transaction():
        # Taken in its own transaction: each pending link is answered once, even when
        # linking it is then refused.
        identity = await take_pending_link(
            conn, browser_binding=browser_binding, user_id=user_id, now=now
        )
        if identity is not None and not confirmed:
            await record_event(
                conn,
                at=now,
                actor=f"user:{user_id}",
                action="identity.link_cancelled",
                target=f"user:{user_id}",
                data={"provider": identity.provider},
            )
    if identity is None:
        refusal = SignInRefused("link_expired", "no pending link for this browser")
        await audit_refusal(pool, "", refusal, actor=user_id, now=now)
        raise refusal
    if not confirmed:
        return 0
    try:
        async with pool.acquire() as conn, conn.transaction():
            _, count = await attach_identity(
                conn,
                identity,
                link_to=user_id,
                now=now,
                screening_threshold=screening_threshold,
            )
    except SignInRefused as refusal:
        await audit_refusal(pool, identity.provider, refusal, actor=user_id, now=now)
        raise
    return count
