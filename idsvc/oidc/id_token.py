"""Full ID token validation (OpenID Connect Core §3.1.3.7), with Authlib's claim rules.

Signature: against the provider's JWKS, with only the algorithms configured for that
provider (so ``alg: none`` and HMAC-with-public-key confusion fail before any claim is
read), refreshing the JWKS once on an unknown ``kid``. Claims: ``iss`` exactly the
provider's issuer, ``aud`` containing our client id, ``azp`` when present (or when there
are several audiences) equal to it, ``exp`` in the future, ``iat`` present and not in the
future, ``nonce`` equal to the one this sign-in sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

__all__ = ["IdTokenRejected", "validate_id_token"]

_LEEWAY = 60


class IdTokenRejected(Exception):
    """The ID token is not acceptable; the message is for logs and the audit trail."""


def _decode(id_token: str, jwks: dict[str, object], algorithms: tuple[str, ...]) -> Any:
    return jwt.decode(
        id_token,
        KeySet.import_key_set(jwks),  # type: ignore[arg-type]
        registry=JWSRegistry(algorithms=list(algorithms)),
    )


async def validate_id_token(
    id_token: str,
    *,
    jwks: Callable[[bool], Awaitable[dict[str, object]]],
    algorithms: tuple[str, ...],
    issuer: str,
    client_id: str,
    nonce: str | None,
    access_token: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Return the validated claims or raise :class:`IdTokenRejected`. ``nonce`` is None
    only for ID tokens that did not come from our own sign-in (token exchange)."""
    try:
        try:
            token = _decode(id_token, await jwks(False), algorithms)
        except JoseError as exc:
            if exc.error != "invalid_key_id" and "kid" not in str(exc).lower():
                raise
            # The provider may have rotated its keys: one refresh, then fail.
            token = _decode(id_token, await jwks(True), algorithms)
    except (JoseError, ValueError, TypeError) as exc:
        raise IdTokenRejected(f"signature or format: {type(exc).__name__}: {exc}") from None
    claims = CodeIDToken(
        token.claims,
        token.header,
        {
            "iss": {"essential": True, "values": [issuer]},
            "aud": {"essential": True, "values": [client_id]},
        },
        {"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    try:
        claims.validate(now=int(now.timestamp()), leeway=_LEEWAY)
    except JoseError as exc:
        raise IdTokenRejected(f"claims: {exc.error}: {exc.description}") from None
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise IdTokenRejected("claims: sub missing")
    if int(claims["iat"]) > int(now.timestamp()) + _LEEWAY:
        raise IdTokenRejected("claims: iat in the future")
    return dict(claims)
