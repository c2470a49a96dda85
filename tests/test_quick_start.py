"""The README's quick start, run as written (its curl lines, in bash) against idsvc with
the configuration `idsvc dev` starts with when none is given: every demo persona gets a
token for the example audiences it qualifies for and a refusal that explains itself for
the others."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import msgspec
import pytest

from idsvc.cli.serve import dev_settings, seed_dev
from idsvc.devidp.examples import (
    EXAMPLE_POLICIES,
    PROGRAM_AUDIENCE,
    US_PERSONS_AUDIENCE,
)
from idsvc.settings import ScreeningSettings
from tests.support.clock import FakeClock, WallClock
from tests.support.demo import demo_service
from tests.support.settings import make_settings

README = Path(__file__).resolve().parents[1] / "README.md"
QUICK_START = re.compile(r"<!-- quick-start -->\s*```sh\n(?P<script>.*?)```", re.DOTALL)

# Who qualifies for which example audience (README's table).
EXPECTED = {
    "us-citizen": {US_PERSONS_AUDIENCE, PROGRAM_AUDIENCE},
    "permanent-resident": {US_PERSONS_AUDIENCE},
    "dual-national": {US_PERSONS_AUDIENCE},
    "foreign-national": {PROGRAM_AUDIENCE},
    "low-assurance": set(),
    "email-only": set(),
}


@pytest.fixture
def clock() -> FakeClock:
    return WallClock()


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    # As `idsvc dev` starts: the example policies, the example organisation, screening
    # required (the service's default) and the demonstration list imported at start.
    screening = ScreeningSettings()
    seed = partial(seed_dev, screening, EXAMPLE_POLICIES)
    with demo_service(
        database_url, tmp_path, clock, policies=EXAMPLE_POLICIES, screening=screening, seed=seed
    ) as (url, _):
        yield url


def test_idsvc_dev_starts_with_the_example_policies_only_when_none_are_configured(
    tmp_path: Path,
) -> None:
    assert dev_settings(make_settings(None, tmp_path), port=18000).config.policies == (
        EXAMPLE_POLICIES
    )
    own = make_settings(None, tmp_path, policies=EXAMPLE_POLICIES[:1])
    assert dev_settings(own, port=18000).config.policies == EXAMPLE_POLICIES[:1]


def _run_quick_start(service: str, persona: str, audience: str, workdir: Path) -> dict[str, object]:
    script = QUICK_START.search(README.read_text())
    assert script is not None, "README.md lost its quick-start block"
    text = (
        script.group("script")
        .replace("http://127.0.0.1:8000", service)
        .replace("login_hint=us-citizen", f"login_hint={persona}")
        .replace(US_PERSONS_AUDIENCE, audience)
    )
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", text],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert isinstance(answer, dict)
    return answer


# Slow tier (`make test-fast` leaves it out): the README's shell lines, run by bash and curl
# against a served demo, twice for each persona (8 s serial).
@pytest.mark.slow
@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_the_readme_quick_start_gets_each_persona_a_token_or_a_clear_refusal(
    service: str, persona: str, tmp_path: Path
) -> None:
    for audience in (US_PERSONS_AUDIENCE, PROGRAM_AUDIENCE):
        workdir = tmp_path / audience.rsplit("/", 1)[1]
        workdir.mkdir()
        answer = _run_quick_start(service, persona, audience, workdir)
        if audience in EXPECTED[persona]:
            assert "access_token" in answer, (
                audience,
                answer.get("reasons"),
                answer.get("explanations"),
            )
            payload = str(answer["access_token"]).split(".")[1]
            claims = msgspec.json.decode(
                base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            )
            assert claims["aud"] == audience
        else:
            assert answer["status"] == 403, answer
            assert answer["type"].endswith("access_denied")
            assert answer["explanations"], answer  # each reason in words, as /me says it
