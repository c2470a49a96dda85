"""RFC 8414 authorization server metadata: where the endpoints are and what they accept."""

from __future__ import annotations

from litestar import Response, get

from idsvc.config.oauth import GRANT_TYPES
from idsvc.oauth.client_auth import ASSERTION_ALGORITHMS, CONFIDENTIAL_AUTH_METHODS
from idsvc.runtime import RuntimeDependency

__all__ = ["DPOP_ALGORITHMS", "authorization_server_metadata"]

# Proof algorithms the DPoP checks accept (the verifier's allow-list).
DPOP_ALGORITHMS = ("ES256", "EdDSA", "RS256")


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
