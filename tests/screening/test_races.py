"""An approval racing a screening never leaves an approved organisation with an open hit:
both lock the organisation first, so one sees the other's outcome."""

from __future__ import annotations

import asyncio

from idsvc import db
from idsvc.errors import Conflict
from idsvc.orgs.vetting.organisations import get_organisation, set_org_status
from idsvc.orgs.vetting.screening_hits import screen_organisation
from idsvc.screening.csl import parse_csl
from idsvc.screening.lists import import_snapshot
from tests.support.clock import FakeClock
from tests.support.factories import create_org
from tests.support.four_eyes import ONE_OPERATOR


async def test_approval_and_screening_at_once(pool: db.Pool, clock: FakeClock) -> None:
    data = b"source,name\nSDN,Acme Analytics Incorporated\n"
    for _ in range(10):
        async with db.transaction(pool) as conn:
            org_id = await create_org(conn, clock(), status="pending")
            await import_snapshot(conn, data=data, rows=parse_csl(data), actor="t", now=clock())

        async def approve(org_id: object = org_id) -> None:
            try:
                async with db.transaction(pool) as conn:
                    await set_org_status(
                        conn,
                        org_id=org_id,
                        status="approved",
                        reason="ok",
                        actor="t",
                        now=clock(),
                        four_eyes=True,
                        rule=ONE_OPERATOR,
                        list_max_age=None,
                    )  # type: ignore[arg-type]
            except Conflict:
                pass

        async def screen(org_id: object = org_id) -> None:
            async with db.transaction(pool) as conn:
                org = await get_organisation(conn, org_id)  # type: ignore[arg-type]
                await screen_organisation(conn, org, threshold=88, actor="t", now=clock())

        await asyncio.gather(approve(), screen())
        status = await pool.fetchval("SELECT status FROM organisations WHERE id = $1", org_id)
        open_hits = await pool.fetchval(
            "SELECT count(*) FROM screening_hits WHERE org_id = $1 AND state = 'open'", org_id
        )
        assert open_hits == 1
        assert status in {"pending", "suspended"}
