"""``[[providers]]``: an upstream OpenID Connect provider and what it is trusted to attest.

The default claim mapping reads OpenID Connect for Identity Assurance ``verified_claims``
(``verification.trust_framework``, ``verification.assurance_level``, ``verification.time``,
``claims.nationalities``). Paths are dotted; a provider with another layout names its own.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

__all__ = ["ClaimPaths", "ProviderSettings"]

ProviderId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
DottedPath = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$", max_length=200)
]
Trust = Literal["sign_in", "nationality", "permanent_residency", "us_person_status"]
Level = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class ClaimPaths(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where each attested fact sits in the provider's claims."""

    # "id_token", "userinfo", or both (userinfo wins where both have a value).
    source: Literal["id_token", "userinfo", "both"] = "both"
    trust_framework: DottedPath = "verified_claims.verification.trust_framework"
    assurance_level: DottedPath = "verified_claims.verification.assurance_level"
    verified_at: DottedPath = "verified_claims.verification.time"
    evidence: DottedPath = "verified_claims.verification.evidence"
    nationalities: DottedPath = "verified_claims.claims.nationalities"
    permanent_residence_country: DottedPath = "verified_claims.claims.permanent_residence_country"
    us_person_basis: DottedPath = "verified_claims.claims.us_person_basis"
    # The verified person (OIDC4IDA): never stored, only compared as keyed MACs, so that a
    # second identity naming someone else cannot lend its attestations to an account.
    given_name: DottedPath = "verified_claims.claims.given_name"
    family_name: DottedPath = "verified_claims.claims.family_name"
    birthdate: DottedPath = "verified_claims.claims.birthdate"


class ProviderSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: ProviderId
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    issuer: Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s?#]+$", max_length=512)]
    client_id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    # Where the client secret comes from: the name of an environment variable, or a file.
    client_secret_env: str | None = None
    client_secret_file: str | None = None
    scopes: tuple[Annotated[str, msgspec.Meta(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]+$")], ...] = (
        "openid",
        "email",
        "profile",
    )
    # The OIDC `claims` request parameter (JSON object); None sends the default request
    # for verified_claims when the provider attests anything.
    claims_request: dict[str, Any] | None = None
    trusted_for: tuple[Trust, ...] = ("sign_in",)
    # verified_claims whose trust framework is not one of these are not accepted.
    trust_frameworks: tuple[Level, ...] = ()
    # Provider assurance values -> the service's scale (IAL1 < IAL2 < IAL3).
    assurance_map: dict[Level, Level] = msgspec.field(default_factory=dict)
    # Evidence older than this is not accepted, and an attestation expires this long after
    # the verification time.
    max_evidence_age: Annotated[int, msgspec.Meta(ge=3600, le=10 * 365 * 86_400)] = 365 * 86_400
    id_token_algorithms: tuple[Literal["ES256", "RS256", "PS256", "EdDSA"], ...] = (
        "ES256",
        "RS256",
    )
    claims: ClaimPaths = msgspec.field(default_factory=ClaimPaths)

    def __post_init__(self) -> None:
        if self.client_secret_env and self.client_secret_file:
            raise ValueError(
                f"providers.{self.id}: set client_secret_env or client_secret_file, not both"
            )
        attests = set(self.trusted_for) - {"sign_in"}
        if attests and not self.trust_frameworks:
            raise ValueError(
                f"providers.{self.id}: a provider trusted for {sorted(attests)} "
                "needs trust_frameworks"
            )
        if attests and not self.assurance_map:
            raise ValueError(f"providers.{self.id}: a provider that attests needs assurance_map")
        if "openid" not in self.scopes:
            raise ValueError(f"providers.{self.id}: scopes must include openid")
