"""``[screening] four_eyes_approval = false``: a deployment with one compliance operator
may let the same person override a hit and approve (the default needs two)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.settings import Settings
from tests.support.cli import run_idsvc
from tests.support.clock import FakeClock
from tests.support.signin import call, session_caller
from tests.support.vetting import OPERATOR_SUBJECT, org_request

FIXTURE = Path(__file__).parents[2] / "screening" / "fixtures" / "csl_sample.csv"
JUSTIFICATION = "Different company: registered in Ohio, EIN and directors checked."


@pytest.fixture
def settings(settings: Settings) -> Settings:
    screening = msgspec.structs.replace(settings.config.screening, four_eyes_approval=False)
    config = msgspec.structs.replace(settings.config, screening=screening)
    return msgspec.structs.replace(settings, config=config)


async def test_one_operator_may_override_and_approve_when_four_eyes_is_off(
    client: AsyncTestClient[Litestar], pool: db.Pool, clock: FakeClock, database_url: str
) -> None:
    code, _, err = await run_idsvc("screening", "import", str(FIXTURE), database_url=database_url)
    assert code == 0, err
    admin = await session_caller(pool, clock(), us_person=True)
    listed = org_request(legal_name="Volga Precision Instruments LLC", domains=[])
    org_id = (await call(client, admin, "POST", "/v1/orgs", listed)).json()["id"]
    operator = await session_caller(pool, clock(), subject=OPERATOR_SUBJECT)
    hit_id = await pool.fetchval("SELECT id FROM screening_hits")
    override_url = f"/v1/operator/orgs/{org_id}/screening-hits/{hit_id}/override"
    overridden = await call(
        client, operator, "POST", override_url, {"justification": JUSTIFICATION}
    )
    assert overridden.status_code == 200, overridden.text
    approve = {"status": "approved", "reason": "documents in order"}
    approved = await call(client, operator, "POST", f"/v1/operator/orgs/{org_id}/status", approve)
    assert approved.status_code == 200, approved.text
