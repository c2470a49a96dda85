"""Request bodies of requesting and vetting an organisation: strict, bounded msgspec
structs. Apart from ``api.py`` because the use case (``vetting.service``) and the console
take an ``OrgRequest`` too."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from idsvc.orgs.domains.domain_names import DomainText

__all__ = [
    "OrgRequest",
    "OverrideRequest",
    "ProgramsRequest",
    "RegistrationId",
    "StatusRequest",
]

# Printable text: no control characters, which have no place in a name and can forge
# lines in logs and exports.
Text = msgspec.Meta(pattern=r"^[^\x00-\x1f\x7f]*$")
ProgramName = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=2000), Text]


class RegistrationId(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # e.g. "us-ein", "lei", "uk-companies-house"
    scheme: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}$")]
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=100), Text]


class OrgRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    legal_name: Annotated[str, msgspec.Meta(min_length=1, max_length=300), Text]
    # ISO 3166-1 alpha-2 or alpha-3; stored as alpha-2.
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=3)]
    contact_email: Annotated[
        str, msgspec.Meta(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    ]
    registration_ids: Annotated[list[RegistrationId], msgspec.Meta(max_length=10)] = []
    domains: Annotated[list[DomainText], msgspec.Meta(max_length=20)] = []
    programs_requested: Annotated[list[ProgramName], msgspec.Meta(max_length=20)] = []


class StatusRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    status: Literal["approved", "rejected", "suspended"]
    reason: Reason


class ProgramsRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    programs: Annotated[list[ProgramName], msgspec.Meta(max_length=50)]
    reason: Reason | None = None


class OverrideRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    justification: Annotated[str, msgspec.Meta(min_length=20, max_length=2000)]
