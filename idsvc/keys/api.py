"""Publishing keys: the JWKS (design 3.1) and a PEM export."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from idsvc.http.inject import Injected, Now
from idsvc.http.openapi import documented
from idsvc.jose.jwk import key_from_public_jwk
from idsvc.keys.pem import public_keys_pem
from idsvc.keys.service import KeyService
from idsvc.settings import Settings

__all__ = ["routes"]


@get(
    "/.well-known/jwks.json",
    opt=documented(returns=("application/jwk-set+json",), conditional=True),
)
async def jwks(
    *,
    request: Request[Any, Any, Any],
    keys: Injected[KeyService],
    settings: Injected[Settings],
    now: Now,
) -> Response[bytes]:
    body, etag = keys.ring.jwks(now)
    headers = {
        "Cache-Control": f"public, max-age={settings.config.keys.jwks_max_age}",
        "ETag": etag,
    }
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type="application/jwk-set+json", headers=headers)


@get("/keys/signing-keys.pem", opt=documented(returns=("application/x-pem-file",)))
async def signing_keys_pem(
    *, keys: Injected[KeyService], settings: Injected[Settings], now: Now
) -> Response[bytes]:
    """For gateways that register public keys one by one: each key as a PEM block."""
    published = keys.ring.published(now)
    body = public_keys_pem(
        [(key.kid, key.alg, key_from_public_jwk(key.public_jwk)) for key in published]
    )
    return Response(
        body,
        media_type="application/x-pem-file",
        headers={"Cache-Control": f"public, max-age={settings.config.keys.jwks_max_age}"},
    )


routes = [jwks, signing_keys_pem]
