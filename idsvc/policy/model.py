"""``[[policies]]``: what an audience (protected resource) requires, and what it grants.

Loaded once from the configuration file; nationality codes are normalised and country
groups expanded at load, so a typo fails start-up instead of silently never matching.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from idsvc.countries import UnknownCountryCode, normalize_nationality
from idsvc.policy.country_groups import UnknownCountryGroup, country_groups

__all__ = [
    "ASSURANCE_LEVELS",
    "Basis",
    "CountryRules",
    "OrgRequirement",
    "PolicySettings",
    "assurance_rank",
]

ASSURANCE_LEVELS = ("IAL1", "IAL2", "IAL3")
Assurance = Literal["IAL1", "IAL2", "IAL3"]
Basis = Literal["citizen", "us_national", "permanent_resident", "protected_individual"]
# 15 CFR 772.1 ("foreign person") with 8 U.S.C. 1324b(a)(3): a citizen or a national of the
# United States (a non-citizen national, e.g. born in American Samoa), a lawful permanent
# resident, or a protected individual is not a foreign person.
NOT_FOREIGN_PERSON: tuple[Basis, ...] = (
    "citizen",
    "us_national",
    "permanent_resident",
    "protected_individual",
)

CountryCode = Annotated[str, msgspec.Meta(min_length=2, max_length=3)]
GroupName = Annotated[str, msgspec.Meta(pattern=r"^[A-E]:[0-9]{1,2}$")]
Program = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


def assurance_rank(level: str) -> int:
    """Position on the ordered scale; unknown levels rank below everything."""
    return ASSURANCE_LEVELS.index(level) if level in ASSURANCE_LEVELS else -1


class OrgRequirement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The person must hold an active membership of an approved organisation."""

    # The organisation must hold every one of these programs (granted by operators).
    programs: tuple[Program, ...] = ()
    # When set, the membership's role must be one of these.
    roles: tuple[Literal["admin", "member"], ...] = ()


class CountryRules(msgspec.Struct, frozen=True, kw_only=True):
    """The policy's country lists with groups expanded: what the decision compares."""

    denied_nationalities: frozenset[str]
    denied_residencies: frozenset[str]
    # Empty: every nationality not denied is allowed.
    allowed_nationalities: frozenset[str]


class PolicySettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
    version: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    audience: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    # Not a foreign person: U.S. citizen, lawful permanent resident or protected individual.
    require_us_person: bool = True
    allowed_us_person_bases: tuple[Basis, ...] = NOT_FOREIGN_PERSON
    # Denied if ANY of the person's nationalities is listed, directly (ISO alpha-2 or
    # alpha-3) or through an export-control country group such as "D:5" or "E:1".
    deny_nationalities: tuple[CountryCode, ...] = ()
    deny_nationality_groups: tuple[GroupName, ...] = ()
    # A deemed export goes to the most recent citizenship OR permanent residency, so
    # residencies can be denied too.
    deny_residencies: tuple[CountryCode, ...] = ()
    deny_residency_groups: tuple[GroupName, ...] = ()
    # Which nationalities the nationality rules look at (docs/policies.md):
    # "all": every nationality on record, the ITAR's rule (22 CFR 120.50(b)) and the
    #   stricter one; "most_recent": the most recent country of citizenship or permanent
    #   residency, the EAR's deemed-export rule (15 CFR 734.13(b)), as a compliance
    #   operator determined it; without a determination the person is refused.
    nationality_rule: Literal["all", "most_recent"] = "all"
    # When set, at least one attested nationality must be listed here.
    allow_nationalities: tuple[CountryCode, ...] = ()
    min_assurance: Assurance = "IAL2"
    # Attestations verified longer ago than this do not count (seconds; None: no limit
    # beyond each attestation's own expiry).
    max_attestation_age: Annotated[int, msgspec.Meta(ge=3600)] | None = None
    organisation: OrgRequirement | None = None
    entitlements: tuple[Annotated[str, msgspec.Meta(min_length=1, max_length=200)], ...]
    token_lifetime: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 300
    algorithm: Literal["ES256", "EdDSA", "RS256"] = "ES256"
    # "required": tokens for this audience are always bound to the client's DPoP key.
    dpop: Literal["optional", "required"] = "optional"
    # Claims beyond the fixed set that tokens for this audience may carry: "org" adds the
    # organisation id and programs when the policy required an organisation.
    disclose: tuple[Literal["org"], ...] = ()

    def __post_init__(self) -> None:
        for field in ("deny_nationalities", "deny_residencies", "allow_nationalities"):
            try:
                codes = tuple(sorted({normalize_nationality(c) for c in getattr(self, field)}))
            except UnknownCountryCode as exc:
                raise ValueError(f"policies.{self.id}.{field}: {exc}") from None
            msgspec.structs.force_setattr(self, field, codes)
        for field in ("deny_nationality_groups", "deny_residency_groups"):
            try:
                country_groups().expand(getattr(self, field))
            except UnknownCountryGroup as exc:
                raise ValueError(f"policies.{self.id}.{field}: {exc}") from None
        if not self.entitlements:
            raise ValueError(f"policies.{self.id}.entitlements: grant at least one")
        if "org" in self.disclose and self.organisation is None:
            raise ValueError(
                f"policies.{self.id}.disclose: 'org' needs an organisation requirement"
            )

    @property
    def ref(self) -> str:
        """What tokens carry as ``pol``."""
        return f"{self.id}@{self.version}"

    def country_rules(self) -> CountryRules:
        groups = country_groups()
        return CountryRules(
            denied_nationalities=frozenset(self.deny_nationalities)
            | groups.expand(self.deny_nationality_groups),
            denied_residencies=frozenset(self.deny_residencies)
            | groups.expand(self.deny_residency_groups),
            allowed_nationalities=frozenset(self.allow_nationalities),
        )
