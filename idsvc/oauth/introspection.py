"""What introspection (RFC 7662) and revocation (RFC 7009) do with a presented token: the
use cases behind ``/oauth2/introspect`` and ``/oauth2/revoke``."""

from __future__ import annotations

import json
from datetime import datetime

import msgspec

from idsvc.config.oauth import ClientSettings
from idsvc.db import Connection
from idsvc.jose.base64url import b64url_decode
from idsvc.keys.service import KeyService
from idsvc.oauth.grants import REFRESH_PREFIX, GrantRefused, find_grant, live_grant, revoke_grant
from idsvc.policy.model import PolicySettings
from idsvc.verify import DPoPRequired, VerificationError, Verifier
from idsvc.verify.claims import EligibilityClaims

__all__ = ["introspect_token", "revoke_token"]

_SLOT_STATUS = "SELECT status FROM token_statuses WHERE list_id = $1 AND idx = $2"


async def introspect_token(
    conn: Connection,
    token: str,
    *,
    client: ClientSettings,
    issuer: str,
    keys: KeyService,
    policies: dict[str, PolicySettings],
    now: datetime,
) -> dict[str, object]:
    if token.startswith(REFRESH_PREFIX):
        grant = await live_grant(conn, token, client_id=client.id, now=now)
        if grant is None:
            return {"active": False}
        return {"active": True, "token_type": "refresh_token", "client_id": grant.client_id}
    return await _introspect_eligibility_token(
        conn, token, issuer=issuer, keys=keys, policies=policies, now=now
    )


def _unverified_audience(token: str) -> str | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, RecursionError):
        return None
    aud = claims.get("aud") if isinstance(claims, dict) else None
    return aud if isinstance(aud, str) else None


async def _introspect_eligibility_token(
    conn: Connection,
    token: str,
    *,
    issuer: str,
    keys: KeyService,
    policies: dict[str, PolicySettings],
    now: datetime,
) -> dict[str, object]:
    audience = _unverified_audience(token)
    if audience is None or audience not in policies:
        return {"active": False}
    jwks, _etag = keys.ring.jwks(now)
    verifier = Verifier(
        issuer=issuer,
        audience=audience,
        jwks=json.loads(jwks),
        clock=now.timestamp,
        # The status is read from the database below, not fetched from ourselves.
        check_status=False,
    )
    try:
        claims = verifier.verify(token)
    except DPoPRequired:
        # The verifier checks DPoP after everything else: the token itself is valid, and
        # introspection has no request to hold a proof against. Report its binding.
        claims = msgspec.json.decode(b64url_decode(token.split(".")[1]), type=EligibilityClaims)
    except VerificationError:
        return {"active": False}
    if claims.status is not None:
        reference = claims.status.status_list
        list_id = reference.uri.removeprefix(f"{issuer}/status-lists/")
        if not list_id.isdigit():
            return {"active": False}
        status = await conn.fetchval(_SLOT_STATUS, int(list_id), reference.idx)
        if status != 0:  # revoked, suspended, or a slot we never allocated
            return {"active": False}
    return {"active": True, "token_type": "eligibility+jwt", **msgspec.to_builtins(claims)}


async def revoke_token(
    conn: Connection, token: str, *, client: ClientSettings, now: datetime
) -> None:
    """RFC 7009: revoking a refresh token ends its whole grant; anything else is ignored."""
    if not token.startswith(REFRESH_PREFIX):
        return
    try:
        grant = await find_grant(conn, token, client_id=client.id, now=now)
    except GrantRefused:
        return
    await revoke_grant(
        conn, grant.id, reason="revoked_by_client", actor=f"client:{client.id}", now=now
    )
