"""What the demo provider says about a persona, and where: ID token and/or userinfo.

Standard claims follow the scopes: ``sub`` always, ``email`` and ``email_verified`` with
``email``, ``name`` with ``profile``. Proofed personas also carry OpenID Connect for
Identity Assurance ``verified_claims``::

    {"verification": {"trust_framework": "nist_800_63A",
                      "assurance_level": "IAL2",
                      "time": "2026-10-23T12:00:00Z",
                      "evidence": [{"type": "document",
                                    "document_details": {"type": "passport",
                                                         "issuer": {"country_code": "USA"}}}]},
     "claims": {"nationalities": ["USA", "CHN"],
                "us_person_basis": "citizen",
                "permanent_residence_country": "USA"}}

``nationalities`` is the registered OIDC4IDA claim (ICAO alpha-3 codes).
``us_person_basis`` (``citizen`` | ``permanent_resident`` | ``protected_individual``) and
``permanent_residence_country`` (alpha-3) are idsvc's custom claims; idsvc's default
provider mapping reads them at ``verified_claims.claims.*``. Each is omitted when not
attested; IAL1 verifications have no ``evidence``.

The ``claims`` request parameter (OIDC Core §5.5) decides where ``verified_claims`` go:
without the parameter the demo returns them in both the ID token and userinfo, so that a
relying party which never sends it still sees them; with it, only where it asks, and
only the claims it names inside ``verified_claims.claims``. The ``verification`` element
is always returned whole.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from idsvc.devidp.personas import Persona

__all__ = [
    "ClaimsRequest",
    "ClaimsRequestError",
    "VerifiedClaimsSelection",
    "parse_claims_request",
    "standard_claims",
    "verified_claims",
]

MAX_CLAIMS_PARAMETER = 4096


class ClaimsRequestError(ValueError):
    """The ``claims`` request parameter is malformed (an ``invalid_request``)."""


class VerifiedClaimsSelection(msgspec.Struct, frozen=True, kw_only=True):
    # Names asked for inside verified_claims.claims; None asks for all of them.
    names: frozenset[str] | None = None


class ClaimsRequest(msgspec.Struct, frozen=True, kw_only=True):
    # None: verified_claims were not asked for in that place.
    id_token: VerifiedClaimsSelection | None
    userinfo: VerifiedClaimsSelection | None


EVERYWHERE = ClaimsRequest(id_token=VerifiedClaimsSelection(), userinfo=VerifiedClaimsSelection())


def parse_claims_request(raw: str | None) -> ClaimsRequest:
    if raw is None:
        return EVERYWHERE
    if len(raw) > MAX_CLAIMS_PARAMETER:
        raise ClaimsRequestError("The 'claims' parameter is too long.")
    try:
        members = msgspec.json.decode(raw, type=dict[str, dict[str, object] | None])
    except msgspec.DecodeError:
        raise ClaimsRequestError("The 'claims' parameter must be a JSON object.") from None
    return ClaimsRequest(
        id_token=_selection(members.get("id_token")),
        userinfo=_selection(members.get("userinfo")),
    )


def _selection(member: dict[str, object] | None) -> VerifiedClaimsSelection | None:
    if not member or "verified_claims" not in member:
        return None
    requested = member["verified_claims"]
    # OIDC4IDA §6: one verified_claims request object, or an array of them.
    entries = requested if isinstance(requested, list) else [requested]
    names: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            raise ClaimsRequestError("'verified_claims' must be an object or array of objects.")
        claims = entry.get("claims")
        if not isinstance(claims, dict):
            return VerifiedClaimsSelection()
        names.update(str(name) for name in claims)
    return VerifiedClaimsSelection(names=frozenset(names))


def standard_claims(persona: Persona, scope: str) -> dict[str, object]:
    scopes = scope.split()
    claims: dict[str, object] = {"sub": persona.sub}
    if "email" in scopes:
        # Every demo address counts as verified: the demo stands in for a provider that
        # checked it, and org-membership flows match on verified addresses only.
        claims["email"] = persona.email
        claims["email_verified"] = True
    if "profile" in scopes:
        claims["name"] = persona.name
    return claims


def verified_claims(
    persona: Persona, selection: VerifiedClaimsSelection | None, *, auth_time: int
) -> dict[str, object] | None:
    """``verified_claims`` for one place, or None when there is nothing to say there."""
    attested = persona.verification
    if selection is None or attested is None:
        return None
    claims: dict[str, object] = {"nationalities": list(attested.nationalities)}
    if attested.us_person_basis is not None:
        claims["us_person_basis"] = attested.us_person_basis
    if attested.permanent_residence_country is not None:
        claims["permanent_residence_country"] = attested.permanent_residence_country
    for name in ("given_name", "family_name", "birthdate"):
        if (value := getattr(attested, name)) is not None:
            claims[name] = value
    if selection.names is not None:
        claims = {name: value for name, value in claims.items() if name in selection.names}
    if not claims:
        # OIDC4IDA: verified_claims with an empty claims object are omitted.
        return None
    # Relative to the sign-in, so the ID token and userinfo of one sign-in agree.
    verified_at = datetime.fromtimestamp(auth_time - attested.age_days * 86_400, UTC)
    verification: dict[str, object] = {
        "trust_framework": attested.trust_framework,
        "assurance_level": attested.assurance_level,
        "time": verified_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if attested.evidence:
        verification["evidence"] = [
            {
                "type": "document",
                "document_details": {
                    "type": evidence.document_type,
                    "issuer": {"country_code": evidence.issuer_country},
                },
            }
            for evidence in attested.evidence
        ]
    return {"verification": verification, "claims": claims}
