"""Errors of attestations and eligibility determinations.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import BadRequest, Conflict

__all__ = [
    "DeterminationNotPending",
    "DeterminationUnsupported",
    "UnknownCountry",
]


class UnknownCountry(BadRequest):
    """The country is not an ISO 3166-1 country (or names a status, not a country); send a valid
    country code."""

    code = "unknown_country"


class DeterminationUnsupported(Conflict):
    """No unrevoked evidence of the person names that country as a nationality or permanent
    residency, or it is the United States (a U.S. person proves a basis instead): a
    determination chooses among the countries on record, it does not add one."""

    code = "determination_unsupported"


class DeterminationNotPending(Conflict):
    """The determination is already confirmed, revoked or superseded: nothing to confirm."""

    code = "determination_not_pending"
