"""Shared fixtures: a real PostgreSQL (IDSVC_TEST_DATABASE_URL or embedded), a fresh
migrated database per test, the app served through Litestar's test client, an SMTP inbox
and a headless Chromium. Helpers live in tests/support/."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from idsvc.audit.personal import use_key_encryption_key
from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.settings import Settings
from tests.support.clock import FakeClock
from tests.support.mailbox import Inbox, smtp_inbox
from tests.support.pg import TestDatabases
from tests.support.settings import TEST_KEK, make_settings
from tests.support.web import SCREENSHOTS, chromium

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from litestar import Litestar
    from playwright.async_api import Browser


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist the slow tier first. The Makefile hands tests out one at a time
    (--maxschedchunk 1) to whichever worker is free, so the long tests (chaos, fuzzing,
    gateways) start at once on different workers and the many short ones fill in behind
    them, instead of one long test starting last and running alone. A serial run keeps
    the file order."""
    if hasattr(config, "workerinput"):  # a worker: every worker sorts the same way
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("IDSVC_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from idsvc.db.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def databases(pg_admin_url: str) -> AsyncIterator[TestDatabases]:
    dbs = TestDatabases(pg_admin_url)
    await dbs.create_template()
    try:
        yield dbs
    finally:
        await dbs.drop_template()


@pytest.fixture
async def database_url(databases: TestDatabases) -> AsyncIterator[str]:
    url = await databases.create()
    try:
        yield url
    finally:
        await databases.drop(url)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[db.Pool]:
    pool = await db.create_pool(database_url, min_size=1, max_size=40)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True, scope="session")
def _personal_data_kek() -> None:
    """Tests that record attestations without starting an app seal personal data too;
    an app, when a test starts one, configures its own key-encryption key."""
    use_key_encryption_key(KeyEncryptionKey.from_text(TEST_KEK.encode()))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, cookie_secure=False, max_request_body=4096)


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Litestar:
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback: what it received, and its port."""
    with smtp_inbox() as served:
        yield served


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """A headless Chromium for the whole session (tests open a context each)."""
    async with chromium() as launched:
        yield launched


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
