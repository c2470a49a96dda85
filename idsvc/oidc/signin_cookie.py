"""The cookies a sign-in sets: the session cookie it ends with, and the cookie that binds
a sign-in to the browser that started it.

The binding cookie carries a random value whose hash is stored with the sign-in transaction
(:mod:`idsvc.oidc.transactions`); the callback completes only in a browser that presents
it. HttpOnly (no script reads it), ``SameSite=Lax`` (sent on the provider's top-level
redirect back, not on cross-site subrequests), short-lived, and ``__Host-`` prefixed when
the service runs on https, so no sibling subdomain can plant or overwrite it.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from idsvc.accounts.sessions import session_cookie_name

__all__ = [
    "binding_cookie",
    "browser_binding",
    "cleared_binding_cookie",
    "new_browser_binding",
    "session_cookie",
]

_NAME = "idsvc_signin"


def _name(secure: bool) -> str:
    # The prefix obliges the browser to refuse the cookie unless it is Secure, Path=/ and
    # has no Domain: only this host, over https, can set it.
    return f"__Host-{_NAME}" if secure else _NAME


def new_browser_binding() -> str:
    return secrets.token_urlsafe(32)


def browser_binding(request: Request[Any, Any, Any], *, secure: bool) -> str | None:
    value = request.cookies.get(_name(secure))
    return value if value and len(value) <= 128 else None


def binding_cookie(value: str, *, secure: bool, max_age: int) -> Cookie:
    return Cookie(
        key=_name(secure),
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def cleared_binding_cookie(*, secure: bool) -> Cookie:
    return binding_cookie("", secure=secure, max_age=0)


def session_cookie(value: str, *, secure: bool, max_age: int) -> Cookie:
    """The browser session's cookie (an empty value and no age end it)."""
    return Cookie(
        key=session_cookie_name(secure),
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )
