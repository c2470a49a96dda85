"""Publishing keys: the JWKS (design 3.1), RFC 8414 metadata, and a PEM export."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from idsvc.http.openapi import documented
from idsvc.jose.jwk import key_from_public_jwk
from idsvc.keys.pem import public_keys_pem
from idsvc.oauth.client_auth import ASSERTION_ALGORITHMS, CONFIDENTIAL_AUTH_METHODS
from idsvc.oauth.config import GRANT_TYPES
from idsvc.runtime import RuntimeDependency

__all__ = ["key_routes"]

# Proof algorithms the DPoP checks accept (the verifier's allow-list).
DPOP_ALGORITHMS = ("ES256", "EdDSA", "RS256")


@get(
    "/.well-known/jwks.json",
    opt=documented(returns=("application/jwk-set+json",), conditional=True),
)
async def jwks(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Response[bytes]:
    body, etag = runtime.keys.ring.jwks(runtime.clock())
    headers = {
        "Cache-Control": f"public, max-age={runtime.settings.config.keys.jwks_max_age}",
        "ETag": etag,
    }
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type="application/jwk-set+json", headers=headers)


@get("/.well-known/oauth-authorization-server")
async def authorization_server_metadata(
    runtime: RuntimeDependency,
) -> Response[dict[str, object]]:
    issuer = runtime.settings.service.issuer
    metadata: dict[str, object] = {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "token_endpoint": f"{issuer}/oauth2/token",
        "device_authorization_endpoint": f"{issuer}/oauth2/device_authorization",
        "introspection_endpoint": f"{issuer}/oauth2/introspect",
        "revocation_endpoint": f"{issuer}/oauth2/revoke",
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": ["none", *CONFIDENTIAL_AUTH_METHODS],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "introspection_endpoint_auth_methods_supported": list(CONFIDENTIAL_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": ["none", *CONFIDENTIAL_AUTH_METHODS],
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
        "token_signing_alg_values_supported": list(runtime.settings.config.keys.algorithms),
        # Eligibility tokens are per audience (RFC 8707 resource), not per scope.
        "scopes_supported": [],
        "resource_indicators_supported": True,
    }
    return Response(metadata, headers={"Cache-Control": "public, max-age=3600"})


@get("/keys/signing-keys.pem", opt=documented(returns=("application/x-pem-file",)))
async def signing_keys_pem(runtime: RuntimeDependency) -> Response[bytes]:
    """For gateways that register public keys one by one: each key as a PEM block."""
    published = runtime.keys.ring.published(runtime.clock())
    body = public_keys_pem(
        [(key.kid, key.alg, key_from_public_jwk(key.public_jwk)) for key in published]
    )
    return Response(
        body,
        media_type="application/x-pem-file",
        headers={"Cache-Control": f"public, max-age={runtime.settings.config.keys.jwks_max_age}"},
    )


key_routes = [jwks, authorization_server_metadata, signing_keys_pem]
