"""The app with the service's default: four eyes on, and two configured operators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc.app import create_app
from idsvc.settings import ComplianceSettings, Settings
from tests.support.clock import FakeClock
from tests.support.settings import make_settings


@pytest.fixture
def compliance() -> ComplianceSettings:
    return ComplianceSettings()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, compliance: ComplianceSettings) -> Settings:
    return make_settings(database_url, tmp_path, compliance=compliance, cookie_secure=False)


@pytest.fixture
async def client(settings: Settings, clock: FakeClock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as test_client:
        yield test_client
