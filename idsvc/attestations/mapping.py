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

from idsvc.config.providers import ProviderSettings
from idsvc.countries import UnknownCountryCode, normalize_nationality
from idsvc.policy.model import assurance_rank

__all__ = [
    "AttestationDraft",
    "EvidenceRefused",
    "VerifiedPerson",
    "attestations_from_claims",
    "names_outside_verification",
    "verified_person",
]

Kind = Literal["nationalities", "permanent_residency", "us_person_basis", "most_recent_country"]
US_PERSON_BASES = frozenset(
    {"citizen", "us_national", "permanent_resident", "protected_individual"}
)
# Bases that mean the person holds U.S. nationality: the attested nationalities must say so.
_US_NATIONALITY_BASES = frozenset({"citizen", "us_national"})
_MAX_ELEMENTS = 5
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
    # Why this attestation contradicts the rest of the evidence; recorded for operators,
    # never counted (a U.S.-person basis that contradicts it makes nobody a U.S. person).
    inconsistency: str | None = None


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
    """One draft per kind. ``verified_claims`` may be one verification or, as OIDC4IDA
    allows, an array of them: each element is evaluated on its own, then the kinds are
    merged, and a contradiction within or between elements is recorded on the basis."""
    drafts = [
        draft
        for element in _verification_elements(claims)
        for draft in _element_drafts(element, provider, now=now)
    ]
    return _cross_checked(_merged(drafts))


def _verification_elements(claims: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Each verification on its own. A malformed element refuses the whole verification:
    dropping it would grant on the rest what it may have contradicted (an element naming
    IR without its ``verification`` must not vanish)."""
    verified = claims.get("verified_claims")
    if not isinstance(verified, list):
        return [claims]
    if len(verified) > _MAX_ELEMENTS:
        raise EvidenceRefused("evidence_incomplete", "too many verified_claims elements")
    if not verified or not all(isinstance(v, Mapping) for v in verified):
        raise EvidenceRefused("evidence_incomplete", "a verified_claims element is not an object")
    return [{**claims, "verified_claims": v} for v in verified]


def _merged(drafts: list[AttestationDraft]) -> list[AttestationDraft]:
    """One draft per kind: values united, the weakest assurance and the earliest dates (a
    combined attestation is only as strong and as fresh as its weakest part)."""
    by_kind: dict[str, list[AttestationDraft]] = {}
    for draft in drafts:
        by_kind.setdefault(draft.kind, []).append(draft)
    merged = []
    for kind, same in by_kind.items():
        first = same[0]
        values = tuple(sorted({v for d in same for v in d.values}))
        inconsistency = None
        if kind == "us_person_basis" and len(values) > 1:
            inconsistency = f"the verifications name different bases: {', '.join(values)}"
        merged.append(
            msgspec.structs.replace(
                first,
                values=values,
                assurance=min((d.assurance for d in same), key=assurance_rank),
                verified_at=min(d.verified_at for d in same),
                expires_at=min(d.expires_at for d in same),
                evidence=tuple(e for d in same for e in d.evidence)[:5],
                inconsistency=inconsistency,
            )
        )
    return merged


def _cross_checked(drafts: list[AttestationDraft]) -> list[AttestationDraft]:
    """Mark a U.S.-person basis that the attested nationalities or residency contradict.

    A provider (or an attacker who found a way to shape its claims) saying ``citizen``
    next to nationalities that do not include the United States, or
    ``permanent_resident`` next to residency in another country, has not established a
    U.S. person: the basis is recorded as inconsistent and does not count.
    """
    values = {d.kind: set(d.values) for d in drafts}
    basis = values.get("us_person_basis")
    if not basis:
        return drafts
    problems = []
    nationalities, residency = values.get("nationalities"), values.get("permanent_residency")
    if basis & _US_NATIONALITY_BASES and nationalities is not None and "US" not in nationalities:
        problems.append(
            f"a U.S. {'/'.join(sorted(basis & _US_NATIONALITY_BASES))} basis, but the "
            f"attested nationalities ({', '.join(sorted(nationalities))}) do not include US"
        )
    if "permanent_resident" in basis and residency is not None and "US" not in residency:
        problems.append(
            "a permanent-resident basis, but the attested residency "
            f"({', '.join(sorted(residency))}) is not in the United States"
        )
    if not problems:
        return drafts
    return [
        msgspec.structs.replace(
            d, inconsistency="; ".join(filter(None, [d.inconsistency, *problems]))[:300]
        )
        if d.kind == "us_person_basis"
        else d
        for d in drafts
    ]


def _element_drafts(
    claims: Mapping[str, Any], provider: ProviderSettings, *, now: datetime
) -> list[AttestationDraft]:
    trusted = set(provider.trusted_for) - {"sign_in"}
    paths = provider.claims
    if not trusted:
        return []  # sign-in only: whatever it says is not evidence
    framework = _at(claims, paths.trust_framework)
    if framework is None:
        facts = (paths.nationalities, paths.permanent_residence_country, paths.us_person_basis)
        if any(_at(claims, path) is not None for path in facts):
            # Facts without the verification that would say who checked them and how:
            # refused, not ignored (ignored, the facts beside them would stand alone).
            raise EvidenceRefused("evidence_incomplete", "claims without their verification")
        return []  # the provider verified nothing this time
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


def names_outside_verification(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The names an ID token or userinfo gives outside ``verified_claims`` (OpenID Connect
    standard claims ``name``, ``given_name`` + ``family_name``): not verified, so never
    evidence, but screened like a verified name (a listed party does not escape screening
    by using a provider that verifies no name)."""

    def text(key: str) -> str | None:
        value = claims.get(key)
        return value.strip()[:200] if isinstance(value, str) and value.strip() else None

    given, family = text("given_name"), text("family_name")
    names = [text("name"), " ".join(p for p in (given, family) if p) or None]
    return tuple(dict.fromkeys(n for n in names if n))


class VerifiedPerson(msgspec.Struct, frozen=True, kw_only=True):
    """Who the provider verified, as it sent it (strings, or None when absent)."""

    given_name: str | None
    family_name: str | None
    birthdate: str | None


def verified_person(claims: Mapping[str, Any], provider: ProviderSettings) -> VerifiedPerson:
    """The verified name and date of birth, when the provider attests anything at all."""

    def text(element: Mapping[str, Any], path: str) -> str | None:
        value = _at(element, path)
        return value[:200] if isinstance(value, str) and value.strip() else None

    nobody = VerifiedPerson(given_name=None, family_name=None, birthdate=None)
    if not set(provider.trusted_for) - {"sign_in"}:
        return nobody
    paths = provider.claims
    for element in _verification_elements(claims):
        person = VerifiedPerson(
            given_name=text(element, paths.given_name),
            family_name=text(element, paths.family_name),
            birthdate=text(element, paths.birthdate),
        )
        if person != nobody:
            return person
    return nobody
