"""The demo people one can sign in as.

Each persona stands for an outcome the relying party has to handle: a U.S. citizen, a
lawful permanent resident, a foreign national, a dual national (U.S. and a D:5 country),
a U.S. citizen proofed only at IAL1, and a plain company sign-in with no proofing at all.
``sub`` values are fixed so that a relying party's database survives a restart of the demo.

Nationalities and countries are ICAO alpha-3 codes, as the OpenID Connect for Identity
Assurance claims registry has them. The evidence never names a document number and never
carries an image: the demo models what was checked, not the document.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["PERSONAS", "Evidence", "Persona", "Verification", "find_persona"]

# idsvc's custom claim inside verified_claims.claims: why the person is a U.S. person for
# deemed-export purposes (not a "foreign person"). The three bases of 8 U.S.C.
# 1324b(a)(3); absent when the provider attests no such basis.
UsPersonBasis = Literal["citizen", "permanent_resident", "protected_individual"]


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    document_type: Literal["passport", "residence_permit"]
    issuer_country: str


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    trust_framework: str = "nist_800_63A"
    assurance_level: Literal["IAL1", "IAL2"]
    # Empty for IAL1: the attributes are self-asserted, nothing was inspected.
    evidence: tuple[Evidence, ...] = ()
    # How many days before the sign-in the proofing took place.
    age_days: int = 30
    nationalities: tuple[str, ...]
    us_person_basis: UsPersonBasis | None = None
    # The country that granted lawful permanent residence, when that is attested.
    permanent_residence_country: str | None = None
    # The verified person (OIDC4IDA given_name, family_name, birthdate), as on the document.
    given_name: str | None = None
    family_name: str | None = None
    birthdate: str | None = None


class Persona(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    sub: str
    name: str
    email: str
    # One line for the chooser page: what signing in as this persona demonstrates.
    summary: str
    verification: Verification | None = None


_PASSPORT_USA = Evidence(document_type="passport", issuer_country="USA")

PERSONAS: tuple[Persona, ...] = (
    Persona(
        id="us-citizen",
        sub="demo-7f3c1a20-us-citizen",
        name="Alice Citizen",
        email="alice@example.com",
        summary="U.S. citizen, passport checked (IAL2).",
        verification=Verification(
            assurance_level="IAL2",
            evidence=(_PASSPORT_USA,),
            nationalities=("USA",),
            us_person_basis="citizen",
            given_name="Alice",
            family_name="Citizen",
            birthdate="1988-04-12",
        ),
    ),
    Persona(
        id="permanent-resident",
        sub="demo-2b9e4d71-permanent-resident",
        name="Pablo Resident",
        email="pablo@example.com",
        summary="Mexican national and U.S. lawful permanent resident (IAL2).",
        verification=Verification(
            assurance_level="IAL2",
            evidence=(Evidence(document_type="residence_permit", issuer_country="USA"),),
            nationalities=("MEX",),
            us_person_basis="permanent_resident",
            permanent_residence_country="USA",
            given_name="Pablo",
            family_name="Resident",
            birthdate="1979-09-30",
        ),
    ),
    Persona(
        id="foreign-national",
        sub="demo-c4a85e13-foreign-national",
        name="Frieda National",
        email="frieda@example.com",
        summary="German national, not a U.S. person (IAL2).",
        verification=Verification(
            assurance_level="IAL2",
            evidence=(Evidence(document_type="passport", issuer_country="DEU"),),
            nationalities=("DEU",),
            given_name="Frieda",
            family_name="National",
            birthdate="1992-01-23",
        ),
    ),
    Persona(
        id="dual-national",
        sub="demo-91d06b5f-dual-national",
        name="Dana Dual",
        email="dana@example.com",
        summary="U.S. and Chinese national, U.S. citizen (IAL2).",
        verification=Verification(
            assurance_level="IAL2",
            evidence=(_PASSPORT_USA,),
            nationalities=("USA", "CHN"),
            us_person_basis="citizen",
            given_name="Dana",
            family_name="Dual",
            birthdate="1984-06-05",
        ),
    ),
    Persona(
        id="low-assurance",
        sub="demo-5e27f8c9-low-assurance",
        name="Larry Lowassurance",
        email="larry@example.com",
        summary="Says he is a U.S. citizen; self-asserted only (IAL1).",
        verification=Verification(
            assurance_level="IAL1",
            nationalities=("USA",),
            us_person_basis="citizen",
        ),
    ),
    Persona(
        id="email-only",
        sub="demo-0a6b3c88-email-only",
        name="Sam Staff",
        email="sam@example.com",
        summary="Company sign-in only: an e-mail address, no identity proofing.",
    ),
)

_BY_ID = {persona.id: persona for persona in PERSONAS}


def find_persona(persona_id: str | None) -> Persona | None:
    return _BY_ID.get(persona_id) if persona_id else None
