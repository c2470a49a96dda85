"""OAuth errors (RFC 6749 §5.2) as problem details: the body carries both the problem
members and ``error`` / ``error_description``, so OAuth libraries and problem-aware
clients both read it.

Each OAuth ``error`` is a class here. An OAuth error that shares its code with an error of
the rest of the service (``invalid_request``, ``invalid_dpop_proof``, ``invalid_target``,
``access_denied``) is a variant of that error: ``isinstance`` holds for both, and the wire
``type`` is the same. See ``docs/errors.md`` for every code."""

from __future__ import annotations

from idsvc.errors import (
    AccessDenied,
    AuditedRefusal,
    BadRequest,
    InvalidDpopProof,
    InvalidTarget,
    Unauthenticated,
    Unavailable,
)

__all__ = [
    "AuthorizationPending",
    "DeviceAccessDenied",
    "ExpiredToken",
    "InvalidClient",
    "InvalidGrant",
    "OAuthAccessDenied",
    "OAuthError",
    "OAuthInvalidDpopProof",
    "OAuthInvalidRequest",
    "OAuthInvalidTarget",
    "SlowDown",
    "TemporarilyUnavailable",
    "UnauthorizedClient",
    "UnsupportedGrantType",
    "UseDpopNonce",
]


class OAuthError(AuditedRefusal):
    """An OAuth endpoint's refusal; `error` is the RFC 6749 error code, `error_description` the
    detail."""

    # An audited refusal: raised inside a grant's transaction, it commits what the refusal
    # changed (an audited denial, a grant revoked for reuse, a poll time) before answering.

    title = "OAuth error"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: object,
    ) -> None:
        super().__init__(
            detail, headers=headers, error=self.code, error_description=detail, **extra
        )


class OAuthInvalidRequest(OAuthError, BadRequest):
    """The OAuth request is malformed (body type, size, repeated or missing parameters); fix it and
    send again."""


class InvalidGrant(OAuthError, BadRequest):
    """The grant (device code, refresh token or subject token) is unknown, used, expired or not
    accepted; start the flow again."""

    code = "invalid_grant"


class UnsupportedGrantType(OAuthError, BadRequest):
    """The token endpoint does not support that grant_type."""

    code = "unsupported_grant_type"


class UnauthorizedClient(OAuthError, BadRequest):
    """The client is not registered for that grant type or flow."""

    code = "unauthorized_client"


class UseDpopNonce(OAuthError, BadRequest):
    """The DPoP proof lacks the server's nonce; resend it with the nonce from the `DPoP-Nonce`
    header (RFC 9449)."""

    code = "use_dpop_nonce"


class AuthorizationPending(OAuthError, BadRequest):
    """The person has not approved the device request yet; keep polling at the given interval (RFC
    8628)."""

    code = "authorization_pending"


class SlowDown(OAuthError, BadRequest):
    """The device is polling too fast; poll less often (RFC 8628)."""

    code = "slow_down"


class ExpiredToken(OAuthError, BadRequest):
    """The device code expired before the person approved it; start the device flow again (RFC
    8628)."""

    code = "expired_token"


class InvalidClient(OAuthError, Unauthenticated):
    """The client could not be authenticated, or this endpoint needs a confidential client; check
    the client's credentials and registration."""

    code = "invalid_client"


class TemporarilyUnavailable(OAuthError, Unavailable):
    """An upstream the token endpoint needs (the identity provider) cannot be reached; nothing was
    issued, retry shortly."""

    code = "temporarily_unavailable"


class OAuthInvalidDpopProof(OAuthError, InvalidDpopProof):
    """The token endpoint refused the DPoP proof (missing for a public client, invalid, or for
    another key)."""


class OAuthInvalidTarget(OAuthError, InvalidTarget):
    """The token endpoint was not given, or does not know, an audience this client may ask for; name
    one with `resource=`."""


class OAuthAccessDenied(OAuthError, AccessDenied):
    """The token endpoint refused a token: the audience's policy does not grant access (`reasons`,
    `explanations`)."""


class DeviceAccessDenied(OAuthError, AccessDenied):
    """The person denied the device request (RFC 8628, answered 400); stop polling."""

    status = 400
