"""The service's error tree. Each error has a stable ``code``; HTTP mapping is in one place
(``idsvc.http.problems``), so use cases raise these without knowing about HTTP.

::

    IdsvcError
    ├── BadRequest            invalid_request        (400)
    ├── Unauthenticated       unauthenticated        (401)
    ├── Forbidden             forbidden              (403)
    ├── NotFound              not_found              (404)
    ├── Conflict              conflict               (409)
    ├── RateLimited           rate_limited           (429)
    └── Unavailable           unavailable            (503)

Authentication failures carry one public message whatever the cause: the cause goes to the
log and the audit trail, never to the caller.
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "IdsvcError",
    "NotFound",
    "RateLimited",
    "Unauthenticated",
    "Unavailable",
]


class IdsvcError(Exception):
    """Base of every error the service reports to a caller."""

    code = "error"
    status = 500
    title = "Error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: object,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        # Response headers the error needs (WWW-Authenticate, DPoP-Nonce, ...).
        self.headers = dict(headers or {})
        self.extra = extra


class BadRequest(IdsvcError):
    code = "invalid_request"
    status = 400
    title = "Invalid request"


class Unauthenticated(IdsvcError):
    code = "unauthenticated"
    status = 401
    title = "Authentication required"


class Forbidden(IdsvcError):
    code = "forbidden"
    status = 403
    title = "Forbidden"


class NotFound(IdsvcError):
    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(IdsvcError):
    code = "conflict"
    status = 409
    title = "Conflict"


class RateLimited(IdsvcError):
    code = "rate_limited"
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after


class Unavailable(IdsvcError):
    code = "unavailable"
    status = 503
    title = "Service unavailable"
