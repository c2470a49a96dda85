"""Console tests: a real Chromium (from tests/web) and axe-core checks on every page."""

from __future__ import annotations

from tests.web.conftest import assert_accessible, browser, screenshots  # noqa: F401 (fixtures)
