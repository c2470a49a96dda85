"""Errors of attestations and eligibility determinations.

See ``idsvc.errors`` for the tree and ``docs/errors.md`` for every code.
"""

from __future__ import annotations

from idsvc.errors import BadRequest

__all__ = ["UnknownCountry"]


class UnknownCountry(BadRequest):
    """The country is not an ISO 3166-1 country (or names a status, not a country); send a valid
    country code."""

    code = "unknown_country"
