"""What a user's attestations amount to right now, for their own status page and API.

Policies (per audience) make the real decisions; this is the general picture: which
attestations are valid, and what a person would still have to do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from idsvc.attestations.store import Attestation

__all__ = ["AttestationView", "UserStatus", "user_status"]

BASIS_LABELS = {
    "citizen": "U.S. citizen",
    "permanent_resident": "lawful permanent resident",
    "protected_individual": "protected individual",
    "us_national": "U.S. national",
}
KIND_LABELS = {
    "nationalities": "Nationalities",
    "most_recent_country": (
        "Most recent citizenship or permanent residency (compliance determination)"
    ),
    "permanent_residency": "Permanent residency",
    "us_person_basis": "U.S.-person basis",
}


class AttestationView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: str
    label: str
    values: str
    provider: str
    assurance: str
    verified: str
    expires: str
    # "superseded": replaced by the provider's newer verification, but a nationality or
    # residency it names still counts against the person until an operator revokes it.
    state: Literal["valid", "expired", "revoked", "needs review", "superseded"]


class UsPerson(msgspec.Struct, frozen=True, kw_only=True):
    basis: str
    basis_label: str
    assurance: str
    expires: str
    # False at IAL1: the person asserted it and no document was checked (NIST SP 800-63A),
    # so the page must not call it verified.
    proofed: bool = True


class UserStatus(msgspec.Struct, frozen=True, kw_only=True):
    us_person: UsPerson | None
    attestations: tuple[AttestationView, ...]
    missing: tuple[str, ...]


def _state(
    attestation: Attestation, now: datetime
) -> Literal["valid", "expired", "revoked", "needs review", "superseded"]:
    if attestation.revoked_at is not None:
        return "revoked"
    if attestation.superseded:
        return "superseded"
    if attestation.inconsistency is not None:
        return "needs review"
    return "expired" if attestation.expires_at <= now else "valid"


def user_status(attestations: list[Attestation], now: datetime) -> UserStatus:
    views = []
    us_person = None
    for a in attestations:
        state = _state(a, now)
        views.append(
            AttestationView(
                id=str(a.id),
                kind=a.kind,
                label=KIND_LABELS.get(a.kind, a.kind),
                values=", ".join(BASIS_LABELS.get(v, v) for v in a.attested_values),
                provider=a.provider,
                assurance=a.assurance,
                verified=f"{a.verified_at:%Y-%m-%d}",
                expires=f"{a.expires_at:%Y-%m-%d}",
                state=state,
            )
        )
        if a.kind == "us_person_basis" and state == "valid" and us_person is None:
            basis = a.attested_values[0]
            us_person = UsPerson(
                basis=basis,
                basis_label=BASIS_LABELS.get(basis, basis),
                assurance=a.assurance,
                expires=f"{a.expires_at:%Y-%m-%d}",
                proofed=a.assurance != "IAL1",
            )
    missing = []
    states = {(v.kind, v.state) for v in views}
    if us_person is None:
        if ("us_person_basis", "expired") in states:
            missing.append("Your U.S.-person verification has expired: verify again.")
        elif ("us_person_basis", "revoked") in states:
            missing.append("Your U.S.-person verification was revoked: contact support.")
        elif ("us_person_basis", "needs review") in states:
            missing.append(
                "Your U.S.-person verification needs review: the provider's evidence "
                "contradicts itself. The compliance team will review it."
            )
        else:
            missing.append("Verify your U.S.-person status with an identity-proofing provider.")
    elif not us_person.proofed:
        missing.append(
            "Your U.S.-person status was self-asserted (IAL1): no document was checked. "
            "Verify it with a provider that checks an identity document (IAL2)."
        )
    if not any(v.kind == "nationalities" and v.state == "valid" for v in views):
        missing.append("No verified nationality on record.")
    return UserStatus(us_person=us_person, attestations=tuple(views), missing=tuple(missing))
