"""The guard on starting a sign-in: each client address has a budget of attempts per minute
(across instances), spent before anything else of the request runs, so a flood of
attempts costs no database work beyond the count."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from idsvc.http.inject import service
from idsvc.http.ratelimit import RateLimiter

__all__ = ["sign_in_budget"]


async def sign_in_budget(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    limiter = service(connection, "signin_limiter", RateLimiter)
    await limiter.hit(connection.client.host if connection.client else "unknown")
