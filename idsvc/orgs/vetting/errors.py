"""Errors of requesting an organisation and of its vetting by operators.

InvalidTransition is shared with other parts of ``idsvc.orgs`` and defined in
``idsvc.orgs.errors``; named here so the feature's errors are found in one place.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import BadRequest, Conflict, Forbidden
from idsvc.orgs.errors import InvalidTransition

__all__ = [
    "FourEyesRequired",
    "InvalidCountry",
    "InvalidTransition",
    "NotVerified",
    "ScreeningHit",
]


class InvalidCountry(BadRequest):
    """The country of incorporation is not an ISO 3166-1 country (or names a status); send a
    country's ISO 3166-1 code."""

    code = "invalid_country"


class NotVerified(Forbidden):
    """Only a person with a verified identity may request an organisation; verify your identity
    first."""

    code = "not_verified"


class ScreeningHit(Conflict):
    """The organisation has open restricted-party screening hits (`open_hits`); clear or override
    them before approving."""

    code = "screening_hit"


class FourEyesRequired(Conflict):
    """You overrode a screening hit of this organisation, so another operator must approve it."""

    code = "four_eyes_required"
