"""Export-control country groups (15 CFR 740 Supp. 1, groups D and E), read from the data
file shipped in ``idsvc/policy/data``: groups change by rule, so they are data with a
source and an effective date, never code (docs/country-groups.md)."""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Annotated

import msgspec

__all__ = [
    "DATA_FILE",
    "CountryGroup",
    "CountryGroups",
    "UnknownCountryGroup",
    "country_groups",
    "use_country_groups",
]

DATA_FILE = Path(__file__).parent / "data" / "country_groups.toml"

Alpha2 = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
_SIGN_OFF_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_NOT_SIGNED_OFF = re.compile(r"unreviewed|not reviewed|pending|draft|todo|tbd")


class UnknownCountryGroup(ValueError):
    pass


class CountryGroup(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    countries: frozenset[Alpha2]
    # Countries the source table does not mark, kept on purpose (reason in the file).
    added: frozenset[Alpha2] = frozenset()

    def __post_init__(self) -> None:
        if not self.added <= self.countries:
            raise ValueError(f"{self.name}: added countries must also be listed in countries")


class CountryGroups(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    source: str
    source_url: str
    effective: str
    reviewed_by: str
    groups: dict[str, CountryGroup]

    @property
    def reviewed(self) -> bool:
        """A positive sign-off only: ``reviewed_by`` names who reviewed it and the date
        (``YYYY-MM-DD``), and does not say it is unreviewed or pending. An empty or vague
        value ("", "pending review", "not reviewed") is not a review."""
        text = self.reviewed_by.strip().lower()
        return bool(_SIGN_OFF_DATE.search(text)) and not _NOT_SIGNED_OFF.search(text)

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


# The file in use, for the whole process (set once at configuration time).
_in_use: dict[str, Path] = {"path": DATA_FILE}


def use_country_groups(path: Path | None) -> CountryGroups:
    """Make ``path`` (a deployment's reviewed copy; None: the shipped file) the groups every
    policy uses from now on, in this process. Raises ValueError naming what is wrong."""
    chosen = path or DATA_FILE
    groups = _load(chosen)
    _in_use["path"] = chosen
    return groups


def country_groups() -> CountryGroups:
    """The groups in use (``use_country_groups``), parsed once per file: decisions must not
    read files on the hot path."""
    return _load(_in_use["path"])


@functools.cache
def _load(path: Path) -> CountryGroups:
    try:
        with path.open("rb") as data:
            return msgspec.convert(tomllib.load(data), CountryGroups)
    except OSError as exc:
        raise ValueError(f"cannot read country groups {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, msgspec.ValidationError, ValueError) as exc:
        raise ValueError(f"country groups {path}: {exc}") from None
