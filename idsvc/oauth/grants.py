"""Refresh-token grants: created by a device approval, rotated on every use, revoked as a
whole when an already rotated refresh token comes back (it was copied: whoever holds the
other copy must lose access too — OAuth 2.0 Security BCP §4.14)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from idsvc.audit import record_event
from idsvc.config.oauth import OAuthSettings
from idsvc.crypto.opaque import new_opaque, stored_hash
from idsvc.db import Connection, row_to
from idsvc.replay import SingleUse, remembered_cte
from idsvc.tokens.revocation import revoke_grant_tokens
from idsvc.tokens.service import AlsoWrite, issue_statement
from idsvc.verify.errors import DPoPReplayed

__all__ = [
    "GrantRefused",
    "LiveGrant",
    "create_grant",
    "find_grant",
    "live_grant",
    "refresh_rotation",
    "revoke_grant",
]

REFRESH_PREFIX = "idsvc_rt_"


class GrantRefused(Exception):
    """The refresh token is not usable; ``reason`` goes to the audit trail, not the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LiveGrant(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    user_id: uuid.UUID
    client_id: str
    dpop_jkt: str | None


_INSERT_GRANT = """
INSERT INTO oauth_grants (id, user_id, client_id, dpop_jkt, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""
_INSERT_REFRESH = """
INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)
"""


async def _new_refresh_token(
    conn: Connection, grant_id: uuid.UUID, settings: OAuthSettings, now: datetime
) -> str:
    token = new_opaque(REFRESH_PREFIX)
    expires = now + timedelta(seconds=settings.refresh_token_lifetime)
    await conn.execute(_INSERT_REFRESH, stored_hash(token), grant_id, now, expires)
    return token


async def create_grant(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    client_id: str,
    dpop_jkt: str | None,
    settings: OAuthSettings,
    now: datetime,
) -> tuple[LiveGrant, str]:
    grant = LiveGrant(id=uuid.uuid4(), user_id=user_id, client_id=client_id, dpop_jkt=dpop_jkt)
    expires = now + timedelta(seconds=settings.grant_lifetime)
    await conn.execute(_INSERT_GRANT, grant.id, user_id, client_id, dpop_jkt, now, expires)
    token = await _new_refresh_token(conn, grant.id, settings, now)
    await record_event(
        conn,
        at=now,
        actor=f"user:{user_id}",
        action="oauth.grant.created",
        target=f"grant:{grant.id}",
        data={"client": client_id, "dpop_bound": dpop_jkt is not None},
    )
    return grant, token


# The token's row is locked as well as the grant's: a second refresh with the same token
# waits for the first to commit and is then re-checked against the token's new row (its
# rotated_at set), so it is caught as reuse. Locking only the grant left the waiter with the
# token row as it was before the first refresh (PostgreSQL re-reads only the locked rows).
_FIND = """
SELECT g.id, g.user_id, g.client_id, g.dpop_jkt, g.expires_at AS grant_expires_at,
       g.revoked_at, t.expires_at, t.rotated_at
FROM refresh_tokens t JOIN oauth_grants g ON g.id = t.grant_id
WHERE t.token_hash = $1
FOR UPDATE OF g FOR NO KEY UPDATE OF t
"""
# The same, also holding the person's row FOR SHARE as issuance needs it
# (tokens.service._LOCK_SUBJECT): one round trip for both locks; and, with {remember},
# remembering the request's DPoP proof in the shared replay store (idsvc.replay) too.
_FIND_FOR_ISSUANCE = """{remember}
SELECT g.id, g.user_id, g.client_id, g.dpop_jkt, g.expires_at AS grant_expires_at,
       g.revoked_at, t.expires_at, t.rotated_at, {first_use} AS first_use
FROM refresh_tokens t JOIN oauth_grants g ON g.id = t.grant_id JOIN users u ON u.id = g.user_id
WHERE t.token_hash = $1
FOR UPDATE OF g FOR NO KEY UPDATE OF t FOR SHARE OF u
"""
_FIND_LOCKING_SUBJECT = _FIND_FOR_ISSUANCE.format(remember="", first_use="true")
_FIND_LOCKING_SUBJECT_REMEMBERING = _FIND_FOR_ISSUANCE.format(
    remember=f"WITH {remembered_cte(2)}", first_use="EXISTS (SELECT 1 FROM remembered)"
)
# Rotation as part of the issuing statement (tokens.service.AlsoWrite), so only an issued
# token rotates the refresh token: retire the presented token, stamp the grant, store the
# successor.
_ROTATION = """
retired AS (
    UPDATE refresh_tokens SET rotated_at = {now}::timestamptz
    WHERE token_hash = {used}::bytea AND rotated_at IS NULL AND EXISTS (SELECT 1 FROM claimed)
    RETURNING grant_id
), touched AS (
    UPDATE oauth_grants SET last_used_at = {now}::timestamptz
    WHERE id = (SELECT grant_id FROM retired)
), successor AS (
    INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at)
    SELECT {successor}::bytea, grant_id, {now}::timestamptz, {expires}::timestamptz FROM retired
    RETURNING grant_id
)
"""
_ISSUE_ROTATING = issue_statement(
    _ROTATION, ("now", "used", "successor", "expires"), "(SELECT grant_id FROM successor)"
)
_REVOKE = """
UPDATE oauth_grants SET revoked_at = $2, revoked_reason = $3
WHERE id = $1 AND revoked_at IS NULL
"""


async def find_grant(
    conn: Connection,
    refresh_token: str,
    *,
    client_id: str,
    now: datetime,
    for_issuance: bool = False,
    remember: SingleUse | None = None,
) -> LiveGrant:
    """The live grant behind a refresh token, locked for the caller's transaction.

    ``for_issuance``: the person's row is held too, as issuance needs it, and
    ``remember`` (the request's DPoP proof) is remembered across instances in the same
    statement: DPoPReplayed when any instance saw it before. Raises GrantRefused. Reuse of
    a rotated token revokes the grant first (the caller must commit before refusing, so
    that the revocation stands)."""
    if not refresh_token.startswith(REFRESH_PREFIX) or len(refresh_token) > 128:
        raise GrantRefused("malformed")
    token_hash = stored_hash(refresh_token)
    if remember is not None and for_issuance:
        row = await conn.fetchrow(
            _FIND_LOCKING_SUBJECT_REMEMBERING, token_hash, *remember.args(now)
        )
    elif remember is None:
        row = await conn.fetchrow(_FIND_LOCKING_SUBJECT if for_issuance else _FIND, token_hash)
    else:
        raise ValueError("a single-use value is remembered only when finding for issuance")
    if row is None:
        raise GrantRefused("unknown")
    if remember is not None and not row["first_use"]:
        raise DPoPReplayed("this proof was already used (at another instance)")
    if row["client_id"] != client_id:
        # Not revoked: a client cannot be made to revoke another client's grant by guessing.
        raise GrantRefused("another_client")
    if row["revoked_at"] is not None:
        raise GrantRefused("grant_revoked")
    grant = LiveGrant(
        id=row["id"], user_id=row["user_id"], client_id=row["client_id"], dpop_jkt=row["dpop_jkt"]
    )
    if row["rotated_at"] is not None:
        await revoke_grant(conn, grant.id, reason="refresh_token_reused", actor="system", now=now)
        raise GrantRefused("refresh_token_reused")
    if row["expires_at"] <= now or row["grant_expires_at"] <= now:
        raise GrantRefused("expired")
    return grant


def refresh_rotation(
    grant: LiveGrant, used_token: str, *, settings: OAuthSettings, now: datetime
) -> tuple[str, AlsoWrite]:
    """The successor refresh token, and the writes that retire the presented one and store
    the successor in the statement that issues the access token (audited by its issuance
    event, which names the grant). The caller holds the grant's row lock from find_grant,
    so two refreshes with one token cannot both rotate it."""
    successor = new_opaque(REFRESH_PREFIX)

    def rotated(grant_id: object) -> None:
        if grant_id != grant.id:
            raise GrantRefused("refresh_token_reused")

    write = AlsoWrite(
        sql=_ISSUE_ROTATING,
        args=(
            now,
            stored_hash(used_token),
            stored_hash(successor),
            now + timedelta(seconds=settings.refresh_token_lifetime),
        ),
        check=rotated,
    )
    return successor, write


async def revoke_grant(
    conn: Connection, grant_id: uuid.UUID, *, reason: str, actor: str, now: datetime
) -> bool:
    """Every refresh token of the grant stops working. False if it was already revoked."""
    revoked = await conn.execute(_REVOKE, grant_id, now, reason)
    if revoked == "UPDATE 0":
        return False
    await record_event(
        conn,
        at=now,
        actor=actor,
        action="oauth.grant.revoked",
        target=f"grant:{grant_id}",
        data={"reason": reason},
    )
    await revoke_grant_tokens(conn, grant_id, actor=actor, reason=reason, now=now)
    return True


_LIVE = """
SELECT g.id, g.user_id, g.client_id, g.dpop_jkt
FROM refresh_tokens t JOIN oauth_grants g ON g.id = t.grant_id
WHERE t.token_hash = $1 AND g.client_id = $2 AND g.revoked_at IS NULL
  AND t.rotated_at IS NULL AND t.expires_at > $3 AND g.expires_at > $3
"""


async def live_grant(
    conn: Connection, refresh_token: str, *, client_id: str, now: datetime
) -> LiveGrant | None:
    """Read-only: whether the token is usable now (introspection must not revoke)."""
    if not refresh_token.startswith(REFRESH_PREFIX) or len(refresh_token) > 128:
        return None
    row = await conn.fetchrow(_LIVE, stored_hash(refresh_token), client_id, now)
    return row_to(LiveGrant, row)
