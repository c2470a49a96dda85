"""The country groups' sign-off means something (issue 25): it names a reviewer and a day
that has come, it is bound to the data by its SHA-256, and no sign-off (nor development's
allowance) lets a code that is no country through."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
import pytest

from idsvc.app import create_app
from idsvc.cli.main import main
from idsvc.policy.country_groups import DATA_FILE, use_country_groups
from idsvc.settings import ConfigError, parse_config
from tests.support.four_eyes import ONE_REVIEWER, sign_off_alone
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
REVIEW_DAY = "2026-11-30"  # before NOW, and before any real clock these tests run under
SHIPPED_SIGN_OFF = (
    'reviewed_by = "unreviewed: transcribed by engineering, needs compliance sign-off"'
)


@pytest.fixture(autouse=True)
def _one_reviewer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests are about what a sign-off binds; tests/four_eyes/ about who gives it.
    sign_off_alone(tmp_path, monkeypatch)


@pytest.fixture(autouse=True)
def _shipped_groups_afterwards() -> Iterator[None]:
    # parse_config puts a file's groups in use for the whole process.
    yield
    use_country_groups(None)


def _copy(tmp_path: Path, text: str | None = None) -> Path:
    path = tmp_path / "groups.toml"
    path.write_text(DATA_FILE.read_text() if text is None else text)
    return path


def _sign(path: Path, reviewer: str = "J. Officer", day: str = REVIEW_DAY) -> int:
    command = ["policy", "sign-off-country-groups", "--reviewer", reviewer, "--date", day]
    return main([*command, "--file", str(path)])


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _start(path: Path, tmp_path: Path, *, allow_unreviewed: bool = False) -> None:
    """Start-up as production does it (or as development does, with ``allow_unreviewed``)."""
    # A file is read once per path and process: each start reads a copy of its own.
    started = tmp_path / f"started-{len(list(tmp_path.glob('started-*')))}.toml"
    started.write_bytes(path.read_bytes())
    options = {
        "country_groups_file": str(started),
        "allow_unreviewed_country_groups": allow_unreviewed,
    }
    config = parse_config({"policy": options, "compliance": ONE_REVIEWER})
    settings = msgspec.structs.replace(make_settings(None, tmp_path), config=config)
    create_app(settings, clock=lambda: NOW)


# As found: each of these once passed for a positive, dated sign-off.
BAD_SIGN_OFF_TEXTS = ["awaiting review since 2026-12-01", "nobody 2026-12-01", "2099-01-01"]


@pytest.mark.parametrize("text", BAD_SIGN_OFF_TEXTS)
def test_sign_off_texts_that_review_nothing_stop_start_up(text: str, tmp_path: Path) -> None:
    path = _copy(
        tmp_path, DATA_FILE.read_text().replace(SHIPPED_SIGN_OFF, f'reviewed_by = "{text}"')
    )
    with pytest.raises(ConfigError, match="not signed off"):
        _start(path, tmp_path)


@pytest.mark.parametrize(
    ("line", "refusal"),
    [
        ('reviewed_by = "awaiting review since 2026-12-01"', "reviewed_by = .awaiting review"),
        ('reviewed_by = "nobody 2026-12-01"', "reviewed_by = .nobody"),
        ('reviewed_by = "2099-01-01"', "reviewed_by = .2099-01-01. is not the name"),
        ('reviewed_by = ""', "reviewed_by is empty"),
        ('reviewed_by = "pending"', "reviewed_by = .pending"),
    ],
)
def test_a_sign_off_of_this_very_data_still_needs_a_reviewer(
    line: str, refusal: str, tmp_path: Path
) -> None:
    path = _copy(tmp_path)
    assert _sign(path) == 0
    # The hash leaves the sign-off lines out, so it still matches: the name alone is wrong.
    _edit(path, 'reviewed_by = "J. Officer"', line)
    with pytest.raises(ConfigError, match=refusal):
        _start(path, tmp_path)


def test_a_review_dated_in_the_future_is_refused(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    assert _sign(path) == 0
    _edit(path, f'reviewed_on = "{REVIEW_DAY}"', 'reviewed_on = "2099-01-01"')
    with pytest.raises(ConfigError, match="reviewed_on = '2099-01-01' is in the future"):
        _start(path, tmp_path)
    # Two days ahead has begun nowhere on Earth (the next day has, east of UTC).
    _edit(path, 'reviewed_on = "2099-01-01"', 'reviewed_on = "2026-12-09"')
    with pytest.raises(ConfigError, match="reviewed_on = '2026-12-09' is in the future"):
        _start(path, tmp_path)
    _edit(path, 'reviewed_on = "2026-12-09"', 'reviewed_on = "2026-12-08"')
    _start(path, tmp_path)


def test_data_changed_after_the_sign_off_is_refused(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    assert _sign(path) == 0
    _start(path, tmp_path)
    # One country more under D:3, the sign-off untouched.
    _edit(path, '"SA", "SY", "TW"', '"SA", "SY", "TW", "LA"')
    with pytest.raises(ConfigError, match="reviewed_sha256 does not match the data"):
        _start(path, tmp_path)
    _start(path, tmp_path, allow_unreviewed=True)  # development may still use it
    _edit(path, '"TW", "LA"', '"LA", "TW"')  # the order of a list is data too
    with pytest.raises(ConfigError, match="reviewed_sha256 does not match the data"):
        _start(path, tmp_path)


def test_comments_and_layout_are_not_part_of_the_signed_data(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    assert _sign(path) == 0
    _edit(path, '[groups."D:2"]\n', '# counsel\'s note\n\n[groups."D:2"]  # nuclear\n')
    _edit(path, '"IL", "KP"', '"IL",\n             "KP"')
    _start(path, tmp_path)


def test_a_code_that_is_no_country_is_refused_even_in_development(tmp_path: Path) -> None:
    path = _copy(tmp_path, DATA_FILE.read_text().replace('"SA", "SY", "TW"', '"SA", "SY", "IA"'))
    message = re.escape("""groups."D:3".countries: 'IA' is not an ISO 3166-1 alpha-2""")
    with pytest.raises(ConfigError, match=message):
        _start(path, tmp_path, allow_unreviewed=True)
    assert _sign(path) == 2  # nor can it be signed off


def test_the_cli_writes_a_sign_off_that_start_up_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy(tmp_path)
    with pytest.raises(ConfigError, match="no reviewed_sha256"):
        _start(path, tmp_path)  # the shipped data: nobody signed it off
    assert _sign(path, reviewer="  Jane Officer, export compliance ") == 0
    text = path.read_text()
    digest = re.search(r'^reviewed_sha256 = "([0-9a-f]{64})"$', text, re.MULTILINE)
    assert digest is not None
    assert digest.group(1) in capsys.readouterr().out
    assert 'reviewed_by = "Jane Officer, export compliance"\n' in text
    assert f'reviewed_on = "{REVIEW_DAY}"\n' in text
    assert SHIPPED_SIGN_OFF not in text
    # Everything else, comments included, is as it was.
    assert [line for line in text.splitlines() if not line.startswith("reviewed_")] == [
        line for line in DATA_FILE.read_text().splitlines() if not line.startswith("reviewed_")
    ]
    _start(path, tmp_path)
    # Signing again replaces the sign-off, it does not add a second one.
    assert _sign(path, reviewer="K. Second") == 0
    assert path.read_text().count("reviewed_") == text.count("reviewed_")
    _start(path, tmp_path)


@pytest.mark.parametrize(
    ("reviewer", "day", "refusal"),
    [
        ("nobody", REVIEW_DAY, "not the name of a reviewer"),
        ("awaiting review", REVIEW_DAY, "not the name of a reviewer"),
        ("", REVIEW_DAY, "reviewed_by is empty"),
        ("J. Officer", "2099-01-01", "is in the future"),
        ("J. Officer", "2026-13-01", "is not a date"),
        ("J. Officer", "30/11/2026", "is not a date"),
    ],
)
def test_the_cli_refuses_a_sign_off_start_up_would_refuse(
    reviewer: str, day: str, refusal: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy(tmp_path)
    assert _sign(path, reviewer=reviewer, day=day) == 2
    assert refusal in capsys.readouterr().err
    assert path.read_text() == DATA_FILE.read_text()


def test_the_shipped_file_is_not_signed_off(tmp_path: Path) -> None:
    # It is development data: a claim of review that did not happen would be worse than none.
    with pytest.raises(ConfigError, match="not signed off"):
        _start(DATA_FILE, tmp_path)
    _start(DATA_FILE, tmp_path, allow_unreviewed=True)


def test_the_cli_leaves_a_file_it_cannot_edit_safely_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A multi-line value: replacing its first line would leave the rest behind.
    text = DATA_FILE.read_text().replace(SHIPPED_SIGN_OFF, 'reviewed_by = """not\nyet"""')
    path = _copy(tmp_path, text)
    assert _sign(path) == 2
    assert "cannot place the sign-off" in capsys.readouterr().err
    assert path.read_text() == text
