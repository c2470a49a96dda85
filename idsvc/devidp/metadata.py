"""The provider's URLs and its discovery document (OpenID Connect Discovery 1.0).

Every URL is the issuer plus a fixed suffix, never the request's Host header: the same
app serves correct metadata on its own port or mounted under a prefix, and a forged Host
cannot change where a relying party sends users or fetches keys.
"""

from __future__ import annotations

import msgspec

from idsvc.devidp.personas import PERSONAS
from idsvc.devidp.settings import SUPPORTED_SCOPES

__all__ = ["Endpoints", "discovery_document"]

# Route paths, relative to wherever the app is served.
DISCOVERY_PATH = "/.well-known/openid-configuration"
AUTHORIZE_PATH = "/authorize"
TOKEN_PATH = "/token"  # noqa: S105  # a URL path, not a password
USERINFO_PATH = "/userinfo"
JWKS_PATH = "/jwks"


class Endpoints(msgspec.Struct, frozen=True, kw_only=True):
    issuer: str
    authorization: str
    token: str
    userinfo: str
    jwks: str
    discovery: str

    @classmethod
    def for_issuer(cls, issuer: str) -> Endpoints:
        base = issuer.rstrip("/")
        return cls(
            issuer=issuer,
            authorization=base + AUTHORIZE_PATH,
            token=base + TOKEN_PATH,
            userinfo=base + USERINFO_PATH,
            jwks=base + JWKS_PATH,
            discovery=base + DISCOVERY_PATH,
        )


def discovery_document(endpoints: Endpoints, *, signing_alg: str) -> dict[str, object]:
    verified = [persona.verification for persona in PERSONAS if persona.verification]
    return {
        "issuer": endpoints.issuer,
        "authorization_endpoint": endpoints.authorization,
        "token_endpoint": endpoints.token,
        "userinfo_endpoint": endpoints.userinfo,
        "jwks_uri": endpoints.jwks,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": [signing_alg],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(SUPPORTED_SCOPES),
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "azp",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "email",
            "email_verified",
            "name",
            "verified_claims",
        ],
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        # RFC 9207: authorization responses carry `iss`.
        "authorization_response_iss_parameter_supported": True,
        # OpenID Connect for Identity Assurance 1.0, §9.
        "verified_claims_supported": True,
        "trust_frameworks_supported": sorted({v.trust_framework for v in verified}),
        "evidence_supported": ["document"],
        "documents_supported": sorted(
            {evidence.document_type for v in verified for evidence in v.evidence}
        ),
        "claims_in_verified_claims_supported": [
            "nationalities",
            "us_person_basis",
            "permanent_residence_country",
            "given_name",
            "family_name",
            "birthdate",
        ],
    }
