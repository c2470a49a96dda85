"""Shared fixtures: a real PostgreSQL (IDSVC_TEST_DATABASE_URL or embedded), a fresh
migrated database per test, and the app served through Litestar's test client."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from idsvc.audit.personal import use_key_encryption_key
from idsvc.keys.encryption import KeyEncryptionKey
from idsvc.oauth.config import ClientSettings, OAuthSettings
from idsvc.policy.model import PolicySettings
from idsvc.settings import (
    ConfigFile,
    PolicyOptions,
    Secrets,
    ServiceSettings,
    Settings,
    StatusListSettings,
)
from tests.support.mailbox import inbox  # noqa: F401  (a fixture: a real SMTP server on loopback)
from tests.support.pg import TestDatabases

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from litestar import Litestar


class FakeClock:
    """A clock tests move by hand; time never passes on its own."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class WallClock(FakeClock):
    """Real time, for tests where another process (a CLI, a gateway) uses the wall clock;
    ``advance`` still moves it forward by an offset."""

    def __call__(self) -> datetime:
        return datetime.now(UTC) + (self.now - self._start)

    def __init__(self) -> None:
        super().__init__()
        self._start = self.now


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("IDSVC_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from idsvc.embedded_pg import EmbeddedPostgres

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


def make_settings(
    database_url: str | None,
    tmp_path: Path,
    *,
    operators: tuple[str, ...] = (),
    policies: tuple[PolicySettings, ...] = (),
    clients: tuple[ClientSettings, ...] = (),
    oauth: OAuthSettings | None = None,
    status_lists: StatusListSettings | None = None,
    **service: object,
) -> Settings:
    service_settings = msgspec.structs.replace(ServiceSettings(), **service)
    return Settings(
        config=ConfigFile(
            service=service_settings,
            operators=operators,
            policies=policies,
            clients=clients,
            oauth=oauth or OAuthSettings(),
            status_lists=status_lists or StatusListSettings(),
            # The shipped country groups await compliance sign-off (app start refuses them
            # otherwise); tests decide on them as development does.
            policy=PolicyOptions(allow_unreviewed_country_groups=True),
        ),
        database_url=database_url,
        secrets=Secrets(
            key_encryption_key=secrets.token_urlsafe(32).encode(),
            session_secret=secrets.token_urlsafe(32).encode(),
        ),
        data_dir=tmp_path / "data",
        config_path=None,
    )


@pytest.fixture(autouse=True, scope="session")
def _personal_data_kek() -> None:
    """Tests that record attestations without starting an app seal personal data too;
    an app, when a test starts one, configures its own key-encryption key."""
    use_key_encryption_key(KeyEncryptionKey(secrets.token_bytes(32)))


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
