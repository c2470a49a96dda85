"""The SCIM filter parser against RFC 7644 §3.4.2.2 examples and what IdPs send."""

from __future__ import annotations

import pytest

from idsvc.scim.filters import FilterError, parse_filter

ANN = {
    "userName": "Ann@Acme.example",
    "active": True,
    "externalId": "00u1",
    "emails": [{"value": "ann@acme.example", "type": "work", "primary": True}],
    "name": {"givenName": "Ann", "familyName": "Example"},
    "meta": {"lastModified": "2026-11-01T00:00:00Z"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "ann@acme.example"', True),  # case-insensitive, as userName is
        ('userName eq "bob@acme.example"', False),
        ('userName co "acme"', True),
        ('userName sw "ANN"', True),
        ('userName ew ".example"', True),
        ('emails.value eq "ann@acme.example"', True),
        ('emails[type eq "work"].value eq "ann@acme.example"', True),
        ('emails[type eq "home"]', False),
        ('emails[type eq "work" and value co "@acme"]', True),
        ('externalId eq "00u1"', True),
        ("active eq true", True),
        ("active eq false", False),
        ('name.familyName eq "example"', True),
        ("title pr", False),
        ("name pr", True),
        ('userName eq "x" or externalId eq "00u1"', True),
        ('userName eq "ann@acme.example" and active eq false', False),
        ("not (active eq false)", True),
        ('(userName sw "a" or userName sw "b") and emails[primary eq true]', True),
        ('meta.lastModified gt "2026-10-01T00:00:00Z"', True),
        ('userName ne "ann@acme.example"', False),
    ],
)
def test_filter_matches(text: str, expected: bool) -> None:
    assert parse_filter(text)(ANN) is expected


@pytest.mark.parametrize(
    "text",
    [
        "userName",
        'userName equals "a"',
        "userName eq",
        '(userName eq "a"',
        'emails[type eq "work"',
        'userName eq "a" junk',
        "userName eq @",
        'a eq "x"' * 200,
    ],
)
def test_malformed_filters_are_refused(text: str) -> None:
    with pytest.raises(FilterError):
        parse_filter(text)
