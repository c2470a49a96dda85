"""Four eyes as a test that calls a compliance service directly needs it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idsvc.four_eyes.service import FourEyes

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

__all__ = ["ONE_OPERATOR", "ONE_REVIEWER", "TWO_OPERATORS", "sign_off_alone"]

# One operator decides alone (as `idsvc dev` does): for tests whose subject is the
# decision's effect, not who took it.
ONE_OPERATOR = FourEyes(required=False)
# The service's default: a second operator approves.
TWO_OPERATORS = FourEyes()
# The [compliance] table of a configuration where one reviewer signs off alone.
ONE_REVIEWER = {"four_eyes": False}


def sign_off_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``idsvc policy sign-off-country-groups`` in this process with four eyes off (one
    reviewer signs, no database): for tests of what a sign-off binds, not of who gives it."""
    config = tmp_path / "one-reviewer.toml"
    config.write_text("[compliance]\nfour_eyes = false\n")
    monkeypatch.setenv("IDSVC_CONFIG", str(config))
