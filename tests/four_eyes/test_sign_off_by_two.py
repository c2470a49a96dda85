"""The country groups' sign-off under four eyes (the service's default): the first
reviewer's run proposes and leaves the file alone, the same login cannot approve its own
proposal, a second login writes the sign-off with both names; start-up in production then
accepts it, and refuses a sign-off by one reviewer."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
import pytest

from idsvc.app import create_app
from idsvc.policy.country_groups import DATA_FILE, use_country_groups
from idsvc.settings import ConfigError, parse_config
from tests.support.cli import run_idsvc
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from idsvc import db

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
DAY = "2026-11-30"


@pytest.fixture(autouse=True)
def _shipped_groups_afterwards() -> Iterator[None]:
    yield
    use_country_groups(None)  # parse_config puts a file's groups in use for the process


def _start_in_production(path: Path, tmp_path: Path) -> None:
    started = tmp_path / f"started-{len(list(tmp_path.glob('started-*')))}.toml"
    started.write_bytes(path.read_bytes())
    config = parse_config({"policy": {"country_groups_file": str(started)}})
    assert config.compliance.four_eyes  # the default
    settings = msgspec.structs.replace(make_settings(None, tmp_path), config=config)
    create_app(settings, clock=lambda: NOW)


async def test_two_reviewers_sign_off_and_production_starts(
    tmp_path: Path, database_url: str, pool: db.Pool
) -> None:
    groups = tmp_path / "groups.toml"
    groups.write_text(DATA_FILE.read_text())

    async def sign(login: str, reviewer: str) -> tuple[int, str, str]:
        return await run_idsvc(
            "policy", "sign-off-country-groups", "--reviewer", reviewer, "--date", DAY,
            "--file", str(groups), database_url=database_url, login=login,
        )  # fmt: skip

    code, out, err = await sign("jofficer", "J. Officer")
    assert code == 3, err
    assert "a second reviewer, under another login" in out
    assert groups.read_text() == DATA_FILE.read_text()  # untouched until approved
    code, _, err = await sign("jofficer", "J. Officer, again")
    assert code == 2
    assert "another operator must approve it" in err
    code, out, err = await sign("ksecond", "K. Second")
    assert code == 0, err
    text = groups.read_text()
    assert 'reviewed_by = "J. Officer"\n' in text
    assert 'approved_by = "K. Second"\n' in text
    assert re.search(r'^reviewed_sha256 = "[0-9a-f]{64}"$', text, re.MULTILINE)
    actions = await pool.fetch(
        "SELECT action, actor FROM audit_events WHERE action LIKE 'four_eyes.%' ORDER BY seq"
    )
    assert [(r["action"], r["actor"]) for r in actions] == [
        ("four_eyes.proposed", "cli:jofficer"),
        ("four_eyes.refused", "cli:jofficer"),
        ("four_eyes.approved", "cli:ksecond"),
    ]
    _start_in_production(groups, tmp_path)

    # One reviewer's sign-off (written where four eyes was off) does not start production.
    single = tmp_path / "single.toml"
    single.write_text(re.sub(r"^approved_by = .*\n", "", text, flags=re.MULTILINE))
    with pytest.raises(ConfigError, match="no approved_by"):
        _start_in_production(single, tmp_path)
    # Nor one that names the same reviewer twice.
    twice = tmp_path / "twice.toml"
    twice.write_text(text.replace('approved_by = "K. Second"', 'approved_by = "j. officer"'))
    with pytest.raises(ConfigError, match="names the reviewer again"):
        _start_in_production(twice, tmp_path)


async def test_a_sign_off_refused_after_approval_takes_the_approval_back(
    tmp_path: Path, database_url: str, pool: db.Pool
) -> None:
    groups = tmp_path / "groups.toml"
    groups.write_text(DATA_FILE.read_text())

    async def sign(login: str, reviewer: str) -> int:
        code, _, _ = await run_idsvc(
            "policy", "sign-off-country-groups", "--reviewer", reviewer, "--date", DAY,
            "--file", str(groups), database_url=database_url, login=login,
        )  # fmt: skip
        return code

    assert await sign("jofficer", "J. Officer") == 3
    # Another login, but the same reviewer's name: refused, and the proposal still waits.
    assert await sign("jofficer2", "j. officer") == 2
    assert groups.read_text() == DATA_FILE.read_text()
    states = await pool.fetch("SELECT state FROM pending_decisions")
    assert [r["state"] for r in states] == ["pending"]
    assert (
        await pool.fetchval("SELECT count(*) FROM audit_events WHERE action = 'four_eyes.approved'")
        == 0
    )
    assert await sign("ksecond", "K. Second") == 0
    assert 'approved_by = "K. Second"' in groups.read_text()
