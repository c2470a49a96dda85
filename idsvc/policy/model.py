"""``[[policies]]``: what an audience (protected resource) requires, and what it grants.

Loaded once from the configuration file; nationality codes are normalised at load so a
typo fails start-up instead of silently never matching.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from idsvc.countries import UnknownCountryCode, normalize_nationality

__all__ = ["ASSURANCE_LEVELS", "Basis", "PolicySettings", "assurance_rank"]

ASSURANCE_LEVELS = ("IAL1", "IAL2", "IAL3")
Assurance = Literal["IAL1", "IAL2", "IAL3"]
Basis = Literal["citizen", "permanent_resident", "protected_individual"]
# 8 U.S.C. 1324b(a)(3) and 15 CFR 772.1: none of these is a foreign person.
NOT_FOREIGN_PERSON: tuple[Basis, ...] = ("citizen", "permanent_resident", "protected_individual")


def assurance_rank(level: str) -> int:
    """Position on the ordered scale; unknown levels rank below everything."""
    return ASSURANCE_LEVELS.index(level) if level in ASSURANCE_LEVELS else -1


class PolicySettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
    version: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    audience: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    # Not a foreign person: U.S. citizen, lawful permanent resident or protected individual.
    require_us_person: bool = True
    allowed_us_person_bases: tuple[Basis, ...] = NOT_FOREIGN_PERSON
    # Denied nationalities (any of the person's nationalities), ISO alpha-2 or alpha-3.
    deny_nationalities: tuple[Annotated[str, msgspec.Meta(max_length=3)], ...] = ()
    min_assurance: Assurance = "IAL2"
    # Attestations verified longer ago than this do not count (seconds; None: no limit
    # beyond each attestation's own expiry).
    max_attestation_age: Annotated[int, msgspec.Meta(ge=3600)] | None = None
    entitlements: tuple[Annotated[str, msgspec.Meta(min_length=1, max_length=200)], ...]
    token_lifetime: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 300
    algorithm: Literal["ES256", "EdDSA", "RS256"] = "ES256"
    # "required": tokens for this audience are always bound to the client's DPoP key.
    dpop: Literal["optional", "required"] = "optional"

    def __post_init__(self) -> None:
        try:
            normalised = tuple(sorted({normalize_nationality(c) for c in self.deny_nationalities}))
        except UnknownCountryCode as exc:
            raise ValueError(f"policies.{self.id}.deny_nationalities: {exc}") from None
        msgspec.structs.force_setattr(self, "deny_nationalities", normalised)
        if not self.entitlements:
            raise ValueError(f"policies.{self.id}.entitlements: grant at least one")

    @property
    def ref(self) -> str:
        """What tokens carry as ``pol``."""
        return f"{self.id}@{self.version}"
