"""The eligibility token's header and claims, exactly as design section 3.2 fixes them.

These structs are shared by the verifier (decoding) and the service (minting), and are the
source of ``schemas/eligibility-token.schema.json``. Tokens carry the
decision, not the data: there is deliberately no field for nationality, name or e-mail.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = [
    "MAX_TOKEN_LIFETIME",
    "TOKEN_TYPE",
    "Confirmation",
    "EligibilityClaims",
    "OrgClaim",
    "StatusClaim",
    "StatusListReference",
]

TOKEN_TYPE: Literal["eligibility+jwt"] = "eligibility+jwt"  # noqa: S105 (a media type)
# Design 3.2: never over an hour, whatever a policy or a caller asks.
MAX_TOKEN_LIFETIME = 3600

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class OrgClaim(msgspec.Struct, frozen=True, kw_only=True):
    id: NonEmpty
    programs: tuple[NonEmpty, ...]


class Confirmation(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 9449 §6.1: the SHA-256 JWK thumbprint of the client's DPoP key."""

    jkt: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{43}$")]


class StatusListReference(msgspec.Struct, frozen=True, kw_only=True):
    idx: Annotated[int, msgspec.Meta(ge=0)]
    uri: NonEmpty


class StatusClaim(msgspec.Struct, frozen=True, kw_only=True):
    """Token Status List draft: where this token's status bits are."""

    status_list: StatusListReference


class EligibilityClaims(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    iss: NonEmpty
    sub: NonEmpty
    aud: NonEmpty
    iat: int
    nbf: int
    exp: int
    jti: NonEmpty
    entitlements: tuple[NonEmpty, ...]
    assurance: NonEmpty
    pol: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]+@[0-9]+$")]
    org: OrgClaim | None = None
    cnf: Confirmation | None = None
    status: StatusClaim | None = None


class EligibilityHeader(msgspec.Struct, frozen=True, kw_only=True):
    alg: Literal["ES256", "EdDSA", "RS256"]
    kid: NonEmpty
    typ: Literal["eligibility+jwt"] = TOKEN_TYPE
