"""An organisation's hits are ranked and explained with the list's secondary fields: a
listed address in the organisation's own country comes first, whatever the score, and the
operator sees the addresses and programs beside each hit. Nothing is dropped."""

from __future__ import annotations

import json

from idsvc import db
from idsvc.orgs.vetting.organisations import get_organisation
from idsvc.orgs.vetting.screening_hits import list_hits, screen_organisation
from idsvc.rescreening.importing import import_list
from idsvc.screening.list_files import parse_list
from tests.support.clock import FakeClock
from tests.support.factories import create_org

EL = "Entity List (EL) - Bureau of Industry and Security"


async def test_a_listed_address_in_the_organisations_country_ranks_first(
    pool: db.Pool, clock: FakeClock
) -> None:
    listed = {
        "results": [
            {"id": "el-1", "name": "Acme Analytics", "type": "Entity", "source": EL,
             "addresses": [{"city": "Moscow", "country": "RU"}], "programs": ["EAR"]},
            {"id": "el-2", "name": "Acme Analytic", "type": "Entity", "source": EL,
             "addresses": [{"address": "1 Main St", "city": "Dayton", "country": "US"}]},
            {"id": "el-3", "name": "Acme Analytics Group", "type": "Entity", "source": EL},
        ]
    }  # fmt: skip
    data = json.dumps(listed).encode()
    async with db.transaction(pool) as conn:
        org_id = await create_org(conn, clock(), status="pending", name="Acme Analytics")
        await import_list(
            conn, data=data, rows=parse_list(data), actor="test", now=clock(), force=True,
            max_entry_drop=0.1, threshold=88.0,
        )  # fmt: skip
        await screen_organisation(
            conn, await get_organisation(conn, org_id), threshold=88, actor="test", now=clock()
        )
        hits = await list_hits(conn, [org_id])
    country = await pool.fetchval("SELECT country FROM organisations WHERE id = $1", org_id)
    assert country == "US"
    assert hits[0].matched_name == "Acme Analytic"  # a lower score, the same country
    assert hits[0].country_match == "same"
    assert "Dayton" in (hits[0].listed_addresses or "")
    by_name = {h.matched_name: h for h in hits}
    assert by_name["Acme Analytics"].country_match == "different"
    assert by_name["Acme Analytics"].listed_countries == ["RU"]
    assert by_name["Acme Analytics"].listed_programs == ["EAR"]
    assert len(hits) >= 2  # ranked, never dropped
