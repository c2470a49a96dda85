"""Console tests: a real Chromium (from tests/web) and axe-core checks on every page."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

from tests.web.conftest import browser, screenshots  # noqa: F401 (fixtures)

_axe = Axe()


async def assert_accessible(page: Page) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    results = await _axe.run(page)
    bad: list[dict[str, Any]] = [
        v for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert not bad, [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in bad]
