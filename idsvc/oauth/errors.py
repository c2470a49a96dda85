"""OAuth errors (RFC 6749 §5.2) as problem details: the body carries both the problem
members and ``error`` / ``error_description``, so OAuth libraries and problem-aware
clients both read it."""

from __future__ import annotations

from idsvc.errors import IdsvcError

__all__ = ["OAuthError", "oauth_error"]


class OAuthError(IdsvcError):
    status = 400
    title = "OAuth error"


def oauth_error(
    error: str,
    description: str,
    *,
    status: int = 400,
    headers: dict[str, str] | None = None,
    **extra: object,
) -> OAuthError:
    exc = OAuthError(
        description,
        code=error,
        headers=headers,
        error=error,
        error_description=description,
        **extra,
    )
    exc.status = status
    return exc
