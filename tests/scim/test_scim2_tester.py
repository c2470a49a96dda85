"""An independent SCIM 2.0 conformance tester, scim2-tester (pinned in the lock), against
``/scim/v2`` of a real idsvc on loopback with an organisation's SCIM token. It discovers
what /Schemas and /ResourceTypes advertise and checks that each advertised attribute is
stored, returned, patched (add, replace, remove) and filtered as RFC 7643/7644 say."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from idsvc import db
from idsvc.scim.tokens import create_token
from tests.support.clock import FakeClock, WallClock
from tests.support.demo import demo_service
from tests.support.factories import create_org
from tests.support.signin import session_caller


@pytest.fixture
def clock() -> FakeClock:
    return WallClock()


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    with demo_service(database_url, tmp_path, clock) as (url, _):
        yield url


async def test_scim2_tester_finds_no_error(service: str, pool: db.Pool, clock: FakeClock) -> None:
    admin = await session_caller(pool, clock(), email="admin@tester.example")
    async with db.transaction(pool) as conn:
        org = await create_org(conn, clock(), name="Tester Corp")
        _id, token = await create_token(
            conn, org_id=org, label="scim2-tester", created_by=admin.user_id, now=clock()
        )
    with httpx2.Client(
        base_url=f"{service}/scim/v2", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as http:
        results = await asyncio.to_thread(check_server, SyncSCIMClient(http))
    failed = [
        f"{r.status.name} {r.title}: {r.reason}"
        for r in results
        if r.status in (Status.ERROR, Status.CRITICAL)
    ]
    passed = [r for r in results if r.status == Status.SUCCESS]
    print(Counter(r.status.name for r in results))  # shown with -s: the closing-note figure
    assert not failed, "\n".join(failed)
    assert len(passed) >= 40, [f"{r.status.name} {r.title}" for r in results]
