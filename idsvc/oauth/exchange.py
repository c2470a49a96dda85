"""Token exchange (RFC 8693) for trusted backends: an ID token from a configured upstream
provider, validated against that provider's JWKS, names the user to decide for."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from idsvc.config.oauth import ClientSettings
from idsvc.config.providers import ProviderSettings
from idsvc.db import Connection
from idsvc.oauth.errors import (
    InvalidGrant,
    OAuthInvalidRequest,
    TemporarilyUnavailable,
)
from idsvc.oidc.discovery import ProviderDirectory, ProviderUnavailable
from idsvc.oidc.id_token import IdTokenRejected, validate_id_token

__all__ = ["ID_TOKEN_TYPE", "subject_of_id_token"]

ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 (a URN)

_IDENTITY = "SELECT user_id FROM identities WHERE provider = $1 AND subject = $2"


def _unverified_claims(token: str) -> dict[str, object]:
    parts = token.split(".")
    if len(parts) != 3:
        raise OAuthInvalidRequest("subject_token is not a compact JWS")
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        raise OAuthInvalidRequest("subject_token payload is not JSON") from None
    if not isinstance(payload, dict):
        raise OAuthInvalidRequest("subject_token payload is not an object")
    return payload


async def subject_of_id_token(
    conn: Connection,
    token: str,
    *,
    client: ClientSettings,
    providers: dict[str, ProviderSettings],
    directory: ProviderDirectory,
    now: datetime,
) -> uuid.UUID:
    """The idsvc user the ID token's (issuer, subject) belongs to. Only the issuer and the
    audience are read before the signature is checked, to choose the keys to check it."""
    unverified = _unverified_claims(token)
    provider = next(
        (
            providers[p]
            for p in client.exchange_providers
            if p in providers and providers[p].issuer == unverified.get("iss")
        ),
        None,
    )
    if provider is None:
        raise InvalidGrant("ID tokens from that issuer are not accepted")
    aud = unverified.get("aud")
    token_audiences = aud if isinstance(aud, list) else [aud]
    audience = next((a for a in client.exchange_audiences if a in token_audiences), None)
    if audience is None:
        raise InvalidGrant("the ID token was issued for another audience")

    async def jwks(refresh: bool) -> dict[str, object]:
        return await directory.jwks(provider, refresh=refresh)

    try:
        claims = await validate_id_token(
            token,
            jwks=jwks,
            algorithms=provider.id_token_algorithms,
            issuer=provider.issuer,
            client_id=audience,
            nonce=None,
            access_token=None,
            now=now,
        )
    except IdTokenRejected:
        raise InvalidGrant("the ID token is not valid") from None
    except ProviderUnavailable:
        raise TemporarilyUnavailable("the identity provider cannot be reached") from None
    user_id: uuid.UUID | None = await conn.fetchval(_IDENTITY, provider.id, claims["sub"])
    if user_id is None:
        raise InvalidGrant("no idsvc user has signed in with that identity")
    return user_id
