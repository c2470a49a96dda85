"""Export-control country groups (15 CFR 740 Supp. 1, groups D and E), read from the data
file shipped in ``idsvc/policy/data``: groups change by rule, so they are data with a
source and an effective date, never code (docs/country-groups.md)."""

from __future__ import annotations

import functools
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Annotated

import msgspec

from idsvc.countries import is_iso_country
from idsvc.policy import sign_off

__all__ = [
    "DATA_FILE",
    "CountryGroup",
    "CountryGroups",
    "GroupsFile",
    "UnknownCountryGroup",
    "country_groups",
    "groups_file_in_use",
    "parse_groups_file",
    "use_country_groups",
]

DATA_FILE = Path(__file__).parent / "data" / "country_groups.toml"

Alpha2 = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]


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
    groups: dict[str, CountryGroup]
    # The sign-off (idsvc.policy.sign_off; `idsvc policy sign-off-country-groups` writes
    # it): empty while nobody has signed the data off.
    reviewed_by: str = ""
    reviewed_on: str = ""
    reviewed_sha256: str = ""
    approved_by: str = ""

    def __post_init__(self) -> None:
        # Two capital letters are not yet a country: "IA" would deny or allow nobody, and a
        # policy naming the group would not say what it decides. Refused even in
        # development, where unreviewed data is otherwise allowed.
        for key, group in self.groups.items():
            for code in sorted(group.countries):
                if not is_iso_country(code):
                    raise ValueError(
                        f'groups."{key}".countries: {code!r} is not an ISO 3166-1 alpha-2 '
                        "country code"
                    )

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


class GroupsFile(msgspec.Struct, frozen=True, kw_only=True):
    """A groups file as read: its data, and the SHA-256 that a sign-off of this data names
    (``sign_off.content_sha256``)."""

    groups: CountryGroups
    content_sha256: str

    def sign_off_problem(self, now: datetime, *, four_eyes: bool) -> str | None:
        """Why the data does not count as signed off, naming the key (None: it does); with
        ``four_eyes``, signed off by two reviewers."""
        return sign_off.problem(
            reviewed_by=self.groups.reviewed_by,
            reviewed_on=self.groups.reviewed_on,
            reviewed_sha256=self.groups.reviewed_sha256,
            approved_by=self.groups.approved_by,
            data_sha256=self.content_sha256,
            now=now,
            four_eyes=four_eyes,
        )


def parse_groups_file(text: str) -> GroupsFile:
    """The groups in a file's text; ValueError (or its subclasses) naming what is wrong."""
    document = tomllib.loads(text)
    try:
        groups = msgspec.convert(document, CountryGroups)
    except msgspec.ValidationError as exc:
        # CountryGroups' own checks name their key; msgspec's " - at `$`" adds nothing.
        raise ValueError(str(exc).removesuffix(" - at `$`")) from None
    # Hashed from the same parse as the data in use, so the two cannot differ.
    return GroupsFile(groups=groups, content_sha256=sign_off.content_sha256(document))


# The file in use, for the whole process (set once at configuration time).
_in_use: dict[str, Path] = {"path": DATA_FILE}


def use_country_groups(path: Path | None) -> CountryGroups:
    """Make ``path`` (a deployment's reviewed copy; None: the shipped file) the groups every
    policy uses from now on, in this process. Raises ValueError naming what is wrong."""
    chosen = path or DATA_FILE
    loaded = _load(chosen)
    _in_use["path"] = chosen
    return loaded.groups


def country_groups() -> CountryGroups:
    """The groups in use (``use_country_groups``), parsed once per file: decisions must not
    read files on the hot path."""
    return _load(_in_use["path"]).groups


def groups_file_in_use() -> GroupsFile:
    """The groups in use with the hash their sign-off is checked against."""
    return _load(_in_use["path"])


@functools.cache
def _load(path: Path) -> GroupsFile:
    try:
        return parse_groups_file(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read country groups {path}: {exc.strerror}") from None
    except ValueError as exc:  # TOMLDecodeError and UnicodeDecodeError among them
        raise ValueError(f"country groups {path}: {exc}") from None
