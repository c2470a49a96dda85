"""The country groups against the regulation's own table (15 CFR 740 Supp. No. 1, eCFR
issue of 2026-07-23, kept as a fixture), and the rules for using them: a deployment's
reviewed copy, and no start-up on data nobody signed off unless development says so."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from idsvc.app import create_app
from idsvc.cli.main import main
from idsvc.clock import utc_now
from idsvc.policy.country_groups import (
    DATA_FILE,
    country_groups,
    groups_file_in_use,
    use_country_groups,
)
from idsvc.policy.model import PolicySettings
from idsvc.policy.sign_off import reviewer_problem
from idsvc.settings import ConfigError, PolicyOptions, parse_config
from tests.support.four_eyes import ONE_REVIEWER, sign_off_alone
from tests.support.settings import make_settings

SOURCE = json.loads(
    (Path(__file__).parent / "fixtures" / "ecfr_740_supp1_2026-07-23.json").read_text()
)
# The table's country names, as it writes them, to ISO 3166-1 alpha-2.
ALPHA2 = {
    "Afghanistan": "AF", "Armenia": "AM", "Azerbaijan": "AZ", "Bahrain": "BH",
    "Belarus": "BY", "Burma": "MM", "Cambodia": "KH", "Central African Republic": "CF",
    "China (PRC)": "CN", "Congo (Democratic Republic of)": "CD", "Cuba": "CU", "Egypt": "EG",
    "Eritrea": "ER", "Georgia": "GE", "Haiti": "HT", "Iran": "IR", "Iraq": "IQ",
    "Israel": "IL", "Jordan": "JO", "Kazakhstan": "KZ", "Korea, North": "KP", "Kuwait": "KW",
    "Kyrgyzstan": "KG", "Laos": "LA", "Lebanon": "LB", "Libya": "LY", "Macau": "MO",
    "Moldova": "MD", "Mongolia": "MN", "Nicaragua": "NI", "Oman": "OM", "Pakistan": "PK",
    "Qatar": "QA", "Russia": "RU", "Saudi Arabia": "SA", "Somalia": "SO",
    "South Sudan, Republic of": "SS", "Sudan": "SD", "Syria": "SY", "Taiwan": "TW",
    "Tajikistan": "TJ", "Turkmenistan": "TM", "Uzbekistan": "UZ", "Venezuela": "VE",
    "Vietnam": "VN", "Yemen": "YE", "Zimbabwe": "ZW",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _one_reviewer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests are about what a sign-off binds; tests/four_eyes/ about who gives it.
    sign_off_alone(tmp_path, monkeypatch)


@pytest.mark.parametrize("name", sorted(SOURCE["groups"]))
def test_each_group_is_the_table_plus_its_declared_additions(name: str) -> None:
    group = country_groups().groups[name]
    table = {ALPHA2[country] for country in SOURCE["groups"][name]}
    assert group.countries - group.added == table, (
        f"{name}: missing {sorted(table - group.countries)}, "
        f"extra {sorted(group.countries - group.added - table)}"
    )


@pytest.mark.parametrize(
    ("group", "country", "member"),
    [
        ("D:1", "IR", False),  # Iran is D:2-D:5 and E:1, never D:1
        ("D:3", "IN", False),  # India is in groups A only
        ("D:3", "KH", False),
        ("D:3", "LA", False),
        ("D:3", "NI", False),  # 89 FR 18780: Nicaragua to D:1 and D:5
        ("D:4", "NI", False),
        ("D:5", "NI", True),
        ("D:2", "BY", True),  # 87 FR 13048
        ("D:4", "BY", True),
        ("D:5", "KH", False),  # FR Doc 2026-02262
        ("D:1", "KH", True),
    ],
)
def test_the_reported_differences_are_corrected(group: str, country: str, member: bool) -> None:
    assert (country in country_groups().expand((group,))) is member


def test_a_deployment_uses_its_own_reviewed_copy(tmp_path: Path) -> None:
    reviewed = tmp_path / "groups.toml"
    # This deployment's counsel also denies Laos under D:3.
    reviewed.write_text(
        DATA_FILE.read_text().replace('"SA", "SY", "TW"', '"SA", "SY", "TW", "LA"', 1)
    )
    command = ["policy", "sign-off-country-groups", "--reviewer", "J. Officer"]
    assert main([*command, "--date", "2026-11-30", "--file", str(reviewed)]) == 0
    try:
        config = parse_config(
            {"policy": {"country_groups_file": str(reviewed)}, "compliance": ONE_REVIEWER}
        )
        assert groups_file_in_use().sign_off_problem(utc_now(), four_eyes=False) is None
        assert "LA" in country_groups().expand(("D:3",))
        policy = PolicySettings(
            id="p", version=1, audience="a", deny_nationality_groups=("D:3",),
            entitlements=("x",),
        )  # fmt: skip
        assert "LA" in policy.country_rules().denied_nationalities
        settings = msgspec.structs.replace(make_settings(None, tmp_path), config=config)
        create_app(settings)  # reviewed data: no refusal
    finally:
        use_country_groups(None)
    assert groups_file_in_use().sign_off_problem(utc_now(), four_eyes=False) is not None


def test_unreviewed_groups_stop_the_service_unless_development_allows_them(
    tmp_path: Path,
) -> None:
    settings = make_settings(None, tmp_path)
    refused = msgspec.structs.replace(
        settings, config=msgspec.structs.replace(settings.config, policy=PolicyOptions())
    )
    with pytest.raises(ConfigError, match="allow_unreviewed_country_groups"):
        create_app(refused)
    create_app(settings)  # make_settings allows them, as idsvc dev does


@pytest.mark.parametrize(
    "value", ["/nonexistent/groups.toml", 42], ids=["missing file", "not a path"]
)
def test_a_bad_country_groups_file_is_a_configuration_error(value: object) -> None:
    with pytest.raises(ConfigError, match=r"policy\.country_groups_file"):
        parse_config({"policy": {"country_groups_file": value}})
    assert country_groups() is not None  # the shipped file is still in use


@pytest.mark.parametrize(
    ("reviewed_by", "reviewed"),
    [
        ("J. Officer, export compliance", True),
        ("unreviewed: transcribed by engineering", False),
        ("", False),  # found in review: only "unreviewed…" was refused
        ("  ", False),
        ("pending review", False),
        ("not reviewed yet", False),
        ("awaiting review since 2026-12-01", False),  # issue 25: these three passed
        ("nobody 2026-12-01", False),
        ("2099-01-01", False),
        ("TBD", False),
        ("J. Officer\nsecond line", False),
    ],
)
def test_only_a_name_counts_as_a_reviewer(reviewed_by: str, reviewed: bool) -> None:
    assert (reviewer_problem(reviewed_by) is None) is reviewed
