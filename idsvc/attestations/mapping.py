"""Turning a provider's claims into attestations, or refusing them with a reason.

Pure: claims and the provider's configuration in, attestation drafts out. Anything that
does not meet the provider's configuration (trust framework, assurance scale, evidence
age, code lists) refuses the whole sign-in rather than recording part of it: a partial
record could later be read as "verified" by someone who did not see what was dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec

from idsvc.countries import UnknownCountryCode, normalize_nationality
from idsvc.oidc.provider_config import ProviderSettings

__all__ = [
    "AttestationDraft",
    "EvidenceRefused",
    "VerifiedPerson",
    "attestations_from_claims",
    "verified_person",
]

Kind = Literal["nationalities", "permanent_residency", "us_person_basis"]
US_PERSON_BASES = frozenset({"citizen", "permanent_resident", "protected_individual"})
_CLOCK_SKEW = timedelta(minutes=5)


class EvidenceRefused(Exception):
    """The provider's evidence cannot be accepted; ``reason`` is a stable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class AttestationDraft(msgspec.Struct, frozen=True, kw_only=True):
    kind: Kind
    values: tuple[str, ...]
    trust_framework: str
    assurance: str
    verified_at: datetime
    expires_at: datetime
    evidence: tuple[dict[str, str], ...]


def _at(claims: Mapping[str, Any], path: str) -> Any:
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _evidence_summary(evidence: Any) -> tuple[dict[str, str], ...]:
    """Evidence type, document type and issuing country: never numbers or images."""
    summary = []
    for item in evidence if isinstance(evidence, list) else []:
        if not isinstance(item, Mapping):
            continue
        entry = {"type": str(item.get("type", ""))[:40]}
        details = item.get("document_details") or item.get("document") or {}
        if isinstance(details, Mapping):
            if isinstance(details.get("type"), str):
                entry["document_type"] = details["type"][:40]
            issuer = details.get("issuer")
            if isinstance(issuer, Mapping) and isinstance(issuer.get("country_code"), str):
                entry["issuing_country"] = issuer["country_code"][:3]
        summary.append(entry)
    return tuple(summary[:5])


def _verified_at(value: Any, provider: ProviderSettings, now: datetime) -> datetime:
    if not isinstance(value, str):
        raise EvidenceRefused("evidence_incomplete", "verification time missing")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EvidenceRefused("evidence_incomplete", "verification time unreadable") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when > now + _CLOCK_SKEW:
        raise EvidenceRefused("evidence_incomplete", "verification time in the future")
    if now - when > timedelta(seconds=provider.max_evidence_age):
        raise EvidenceRefused("evidence_expired", "the provider's verification is too old")
    return when


def attestations_from_claims(
    claims: Mapping[str, Any], provider: ProviderSettings, *, now: datetime
) -> list[AttestationDraft]:
    trusted = set(provider.trusted_for) - {"sign_in"}
    paths = provider.claims
    if not trusted or _at(claims, paths.trust_framework) is None:
        return []  # sign-in only, or the provider verified nothing this time
    framework = _at(claims, paths.trust_framework)
    if framework not in provider.trust_frameworks:
        raise EvidenceRefused("trust_framework_not_accepted", "unexpected trust framework")
    level = _at(claims, paths.assurance_level)
    assurance = provider.assurance_map.get(level) if isinstance(level, str) else None
    if assurance is None:
        raise EvidenceRefused("assurance_unknown", "assurance level not in the provider's map")
    verified_at = _verified_at(_at(claims, paths.verified_at), provider, now)
    # What every attestation of this verification shares; kind and values are set below.
    common = AttestationDraft(
        kind="nationalities",
        values=(),
        trust_framework=str(framework),
        assurance=assurance,
        verified_at=verified_at,
        expires_at=verified_at + timedelta(seconds=provider.max_evidence_age),
        evidence=_evidence_summary(_at(claims, paths.evidence)),
    )
    drafts = []
    try:
        nationalities = _at(claims, paths.nationalities)
        if "nationality" in trusted and nationalities is not None:
            if not isinstance(nationalities, list) or not nationalities or len(nationalities) > 20:
                raise EvidenceRefused("evidence_incomplete", "nationalities must be a list")
            codes = sorted({normalize_nationality(str(c)) for c in nationalities})
            drafts.append(msgspec.structs.replace(common, values=tuple(codes)))
        residence = _at(claims, paths.permanent_residence_country)
        if "permanent_residency" in trusted and residence is not None:
            residency = (normalize_nationality(str(residence)),)
            drafts.append(
                msgspec.structs.replace(common, kind="permanent_residency", values=residency)
            )
    except UnknownCountryCode as exc:
        raise EvidenceRefused(exc.code, str(exc)) from None
    basis = _at(claims, paths.us_person_basis)
    if "us_person_status" in trusted and basis is not None:
        if basis not in US_PERSON_BASES:
            raise EvidenceRefused("evidence_incomplete", "unknown U.S.-person basis")
        drafts.append(msgspec.structs.replace(common, kind="us_person_basis", values=(str(basis),)))
    return drafts


class VerifiedPerson(msgspec.Struct, frozen=True, kw_only=True):
    """Who the provider verified, as it sent it (strings, or None when absent)."""

    given_name: str | None
    family_name: str | None
    birthdate: str | None


def verified_person(claims: Mapping[str, Any], provider: ProviderSettings) -> VerifiedPerson:
    """The verified name and date of birth, when the provider attests anything at all."""

    def text(path: str) -> str | None:
        value = _at(claims, path)
        return value[:200] if isinstance(value, str) and value.strip() else None

    if not set(provider.trusted_for) - {"sign_in"}:
        return VerifiedPerson(given_name=None, family_name=None, birthdate=None)
    paths = provider.claims
    return VerifiedPerson(
        given_name=text(paths.given_name),
        family_name=text(paths.family_name),
        birthdate=text(paths.birthdate),
    )
