"""Export-control country groups (15 CFR 740 Supp. 1, groups D and E), read from the data
file shipped in ``idsvc/policy/data``: groups change by rule, so they are data with a
source and an effective date, never code (docs/country-groups.md)."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Annotated

import msgspec

__all__ = ["CountryGroup", "CountryGroups", "UnknownCountryGroup", "country_groups"]

DATA_FILE = Path(__file__).parent / "data" / "country_groups.toml"

Alpha2 = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]


class UnknownCountryGroup(ValueError):
    pass


class CountryGroup(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    countries: frozenset[Alpha2]


class CountryGroups(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    source: str
    source_url: str
    effective: str
    reviewed_by: str
    groups: dict[str, CountryGroup]

    def expand(self, names: tuple[str, ...]) -> frozenset[str]:
        """Every country in the named groups; an unknown name raises, so a typo in a policy
        fails start-up instead of silently denying nobody."""
        countries: set[str] = set()
        for name in names:
            group = self.groups.get(name)
            if group is None:
                known = ", ".join(sorted(self.groups))
                raise UnknownCountryGroup(f"unknown country group {name!r} (known: {known})")
            countries |= group.countries
        return frozenset(countries)


@functools.cache
def country_groups(path: Path = DATA_FILE) -> CountryGroups:
    """Parsed once per process: decisions must not read files on the hot path."""
    with path.open("rb") as data:
        return msgspec.convert(tomllib.load(data), CountryGroups)
