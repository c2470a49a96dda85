"""Identities waiting for the signed-in browser to confirm linking them to its account.

A sign-in started by a signed-in browser that comes back with an identity the account does
not have yet is not linked at once: what would be linked is kept here, and the browser
is shown it and asked to confirm (a POST with the session's CSRF token). The row is found
by the browser binding of the sign-in (the same cookie), so only the browser that started
the sign-in can answer, and only for the account that was signed in when it started.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from idsvc.accounts.person_match import PersonFingerprint
from idsvc.attestations.mapping import AttestationDraft
from idsvc.db import Connection
from idsvc.oidc.transactions import binding_hash

__all__ = [
    "LINK_LIFETIME",
    "VerifiedIdentity",
    "keep_pending_link",
    "pending_link",
    "purge_pending_links",
    "take_pending_link",
]

LINK_LIFETIME = timedelta(minutes=10)


class VerifiedIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """What a completed sign-in established about the person at the provider."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    display_name: str | None
    drafts: tuple[AttestationDraft, ...]
    person: PersonFingerprint
    # The verified name and birth date, as the provider sent them: screened against the
    # listed individuals (screening.service). None when the provider verified no name.
    verified_name: str | None = None
    verified_birthdate: str | None = None
    # Names the provider gave outside its verification (the ID token's name claims): not
    # evidence of identity, but screened too, so that a provider that verifies no name
    # (or places it elsewhere) does not leave the person unscreened.
    other_names: tuple[str, ...] = ()

    def screening_names(self) -> list[str]:
        """Every name to keep and screen for this sign-in, verified first, each once."""
        names = [self.verified_name, *self.other_names]
        return list(dict.fromkeys(n for n in names if n))


_UPSERT = """
INSERT INTO pending_links (browser_binding_hash, user_id, provider, identity, created_at,
                           expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (browser_binding_hash) DO UPDATE
SET user_id = $2, provider = $3, identity = $4, created_at = $5, expires_at = $6
"""
_SELECT = """
SELECT identity FROM pending_links
WHERE browser_binding_hash = $1 AND user_id = $2 AND expires_at > $3
"""
_TAKE = """
DELETE FROM pending_links
WHERE browser_binding_hash = $1 AND user_id = $2 AND expires_at > $3
RETURNING identity
"""
_PURGE = "DELETE FROM pending_links WHERE expires_at < $1"


async def keep_pending_link(
    conn: Connection,
    *,
    browser_binding: str,
    user_id: uuid.UUID,
    identity: VerifiedIdentity,
    now: datetime,
) -> None:
    # One pending link per browser: a newer sign-in replaces an unanswered one.
    await conn.execute(
        _UPSERT,
        binding_hash(browser_binding),
        user_id,
        identity.provider,
        identity,
        now,
        now + LINK_LIFETIME,
    )


async def pending_link(
    conn: Connection, *, browser_binding: str, user_id: uuid.UUID, now: datetime
) -> VerifiedIdentity | None:
    raw = await conn.fetchval(_SELECT, binding_hash(browser_binding), user_id, now)
    return None if raw is None else msgspec.convert(raw, VerifiedIdentity)


async def take_pending_link(
    conn: Connection, *, browser_binding: str, user_id: uuid.UUID, now: datetime
) -> VerifiedIdentity | None:
    """The pending link, removed: each is answered once."""
    raw = await conn.fetchval(_TAKE, binding_hash(browser_binding), user_id, now)
    return None if raw is None else msgspec.convert(raw, VerifiedIdentity)


async def purge_pending_links(conn: Connection, *, now: datetime) -> None:
    await conn.execute(_PURGE, now)
