"""Fixtures of the SCIM tests: an app client and two organisations with an admin each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.app import create_app
from tests.support.clock import FakeClock
from tests.support.factories import add_member, create_org
from tests.support.scim import Orgs
from tests.support.settings import make_settings
from tests.support.signin import session_caller


@pytest.fixture
async def client(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = make_settings(database_url, tmp_path, cookie_secure=False)
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        yield client


@pytest.fixture
async def orgs(pool: db.Pool, clock: FakeClock) -> Orgs:
    admin = await session_caller(pool, clock(), email="admin@acme.example")
    their_admin = await session_caller(pool, clock(), email="admin@other.example")
    async with db.transaction(pool) as conn:
        ours = await create_org(conn, clock())
        theirs = await create_org(conn, clock(), name="Other Corp")
        await add_member(conn, clock(), ours, admin.user_id, role="admin")
        await add_member(conn, clock(), theirs, their_admin.user_id, role="admin")
    return Orgs(ours, theirs, admin, their_admin)
