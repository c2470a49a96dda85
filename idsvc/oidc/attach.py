"""Attaching a verified identity to an account, in the caller's transaction.

Shared by a sign-in's callback (an identity the account already has, or a first sign-in)
and by the confirmation of a link (a new identity for a signed-in account): the same
checks run in both, in this order, and any refusal rolls back everything before it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from idsvc.accounts.person_match import PersonMismatch, record_person
from idsvc.accounts.users import IdentityInUse, User, sign_in_identity
from idsvc.attestations.store import record_attestations
from idsvc.db import Connection
from idsvc.oidc.errors import SignInRefused
from idsvc.oidc.pending_links import VerifiedIdentity
from idsvc.orgs.claims import claim_memberships
from idsvc.orgs.domains.auto_join import auto_join_on_sign_in
from idsvc.screening.service import remember_person, screen_person

__all__ = ["attach_identity", "identity_owner"]

_OWNER = "SELECT user_id FROM identities WHERE provider = $1 AND subject = $2"


async def identity_owner(conn: Connection, *, provider: str, subject: str) -> uuid.UUID | None:
    owner: uuid.UUID | None = await conn.fetchval(_OWNER, provider, subject)
    return owner


async def attach_identity(
    conn: Connection,
    identity: VerifiedIdentity,
    *,
    link_to: uuid.UUID | None,
    now: datetime,
    screening_threshold: float,
) -> tuple[User, int]:
    """The account now holding the identity, and how many attestations were recorded. The
    person's names are screened against the listed individuals in the same transaction."""
    try:
        user, _ = await sign_in_identity(
            conn,
            provider=identity.provider,
            subject=identity.subject,
            email=identity.email,
            email_verified=identity.email_verified,
            display_name=identity.display_name,
            link_to=link_to,
            now=now,
        )
    except IdentityInUse:
        raise SignInRefused("identity_in_use") from None
    if user.status != "active":
        raise SignInRefused("user_disabled")
    try:
        # Before any attestation is recorded: one naming another person must never reach
        # this account, whichever way the identity came to it.
        await record_person(
            conn,
            user_id=user.id,
            provider=identity.provider,
            subject=identity.subject,
            fingerprint=identity.person,
        )
    except PersonMismatch:
        raise SignInRefused("person_mismatch", "the identity names another person") from None
    recorded = await record_attestations(
        conn, user_id=user.id, provider=identity.provider, drafts=list(identity.drafts), now=now
    )
    if names := identity.screening_names():
        for name in names:
            await remember_person(
                conn,
                user_id=user.id,
                name=name,
                birthdate=identity.verified_birthdate,
                provider=identity.provider,
                now=now,
            )
        await screen_person(
            conn, user_id=user.id, threshold=screening_threshold, actor="system", now=now
        )
    # Claim before auto-join, so a person enrolled by CSV or SCIM keeps that membership
    # rather than getting a second, auto-joined one.
    if identity.email and identity.email_verified:
        await claim_memberships(conn, user_id=user.id, email=identity.email, now=now)
    await auto_join_on_sign_in(
        conn,
        user_id=user.id,
        email=identity.email,
        email_verified=identity.email_verified,
        now=now,
    )
    return user, len(recorded)
