"""Restricted-party screening in the vetting flow: at request time, after each list import
(the CLI), on demand; an open hit blocks approval until an operator overrides it; a new hit
on an approved organisation suspends it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.orgs.vetting.screening_hits import rescreen_if_due
from tests.support.cli import run_idsvc
from tests.support.clock import FakeClock
from tests.support.sealed import opened
from tests.support.signin import call, session_caller
from tests.support.vetting import OPERATOR_SUBJECT, load_list, org_request, problem_code

Client = AsyncTestClient[Litestar]
FIXTURE = Path(__file__).parents[2] / "screening" / "fixtures" / "csl_sample.csv"
JUSTIFICATION = "Different company: registered in Ohio, EIN and directors checked."


async def _import(path: Path, database_url: str, *flags: str) -> str:
    code, out, err = await run_idsvc(
        "screening", "import", str(path), *flags, database_url=database_url
    )
    assert code == 0, err
    return out


async def _status(pool: db.Pool, org_id: str) -> str:
    status: str = await pool.fetchval(
        "SELECT status FROM organisations WHERE id = $1", uuid.UUID(org_id)
    )
    return status


async def test_a_hit_at_request_time_blocks_approval_until_overridden(
    client: Client, pool: db.Pool, clock: FakeClock, database_url: str
) -> None:
    out = await _import(FIXTURE, database_url)
    assert "13 entries" in out
    snapshot = await pool.fetchrow("SELECT entries, names, sources FROM screening_snapshots")
    assert snapshot["entries"] == 13
    assert snapshot["sources"]["Entity List (EL) - Bureau of Industry and Security"] == 4

    admin = await session_caller(pool, clock(), us_person=True)
    listed = org_request(legal_name="Volga Precision Instruments LLC", domains=[])
    created = await call(client, admin, "POST", "/v1/orgs", listed)
    assert created.status_code == 201, created.text
    org_id = created.json()["id"]
    assert "screening_hits" not in created.json()  # the applicant is not tipped off
    clean = await call(client, admin, "POST", "/v1/orgs", org_request(domains=[]))
    clean_id = clean.json()["id"]

    operator = await session_caller(pool, clock(), subject=OPERATOR_SUBJECT)
    queue = (await call(client, operator, "GET", "/v1/operator/orgs?status=pending")).json()
    hits = {o["id"]: o["screening_hits"] for o in queue["organisations"]}
    assert hits[clean_id] == []
    [hit] = hits[org_id]
    assert hit["matched_name"] == "Volga Precision Instruments OOO"
    assert hit["list_source"] == "Entity List (EL) - Bureau of Industry and Security"
    assert hit["score"] == 100.0
    assert hit["state"] == "open"

    approve = {"status": "approved", "reason": "documents in order"}
    blocked = await call(client, operator, "POST", f"/v1/operator/orgs/{org_id}/status", approve)
    assert blocked.status_code == 409
    assert problem_code(blocked) == "screening_hit"
    assert await _status(pool, org_id) == "pending"

    override_url = f"/v1/operator/orgs/{org_id}/screening-hits/{hit['id']}/override"
    short = await call(client, operator, "POST", override_url, {"justification": "fine"})
    assert short.status_code == 400
    padded = await call(client, operator, "POST", override_url, {"justification": " " * 30})
    assert padded.status_code == 400
    # The hit through the other organisation's URL: not found, and nothing changes.
    elsewhere = f"/v1/operator/orgs/{clean_id}/screening-hits/{hit['id']}/override"
    wrong_org = await call(client, operator, "POST", elsewhere, {"justification": JUSTIFICATION})
    assert wrong_org.status_code == 404
    # The organisation's own admin cannot override its hit.
    as_admin = await call(client, admin, "POST", override_url, {"justification": JUSTIFICATION})
    assert as_admin.status_code == 403
    assert await pool.fetchval("SELECT state FROM screening_hits") == "open"

    overridden = await call(
        client, operator, "POST", override_url, {"justification": JUSTIFICATION}
    )
    assert overridden.status_code == 200, overridden.text
    assert overridden.json()["state"] == "overridden"
    again = await call(client, operator, "POST", override_url, {"justification": JUSTIFICATION})
    assert again.status_code == 409
    # Four eyes: the operator who overrode the hit cannot also approve.
    alone = await call(client, operator, "POST", f"/v1/operator/orgs/{org_id}/status", approve)
    assert alone.status_code == 409
    assert problem_code(alone) == "four_eyes_required"
    assert await _status(pool, org_id) == "pending"
    second = await session_caller(
        pool, clock(), email="second-operator@provider.example", operator=True
    )
    approved = await call(client, second, "POST", f"/v1/operator/orgs/{org_id}/status", approve)
    assert approved.status_code == 200, approved.text
    event = await pool.fetchrow(
        "SELECT actor, data FROM audit_events WHERE action = 'org.screening.overridden'"
    )
    assert event["actor"] == f"user:{operator.user_id}"
    assert event["data"]["hit"] == hit["id"]
    assert await opened(pool, event["data"]["justification"]) == JUSTIFICATION
    lapses = clock() + timedelta(days=365)
    assert event["data"]["expires_at"] == lapses.isoformat()
    # The applicant's admins see their organisation's trail, but not its screening.
    trail = await call(client, admin, "GET", f"/console/my-orgs/{org_id}/audit")
    assert trail.status_code == 200
    assert "org.status.approved" in trail.text
    assert "org.screen" not in trail.text
    assert "Ohio" not in trail.text  # the override's justification
    assert "Volga Precision Instruments OOO" not in trail.text  # the listed party

    # Importing the same list again re-screens, and the override holds.
    await _import(FIXTURE, database_url)
    assert await _status(pool, org_id) == "approved"
    assert await pool.fetchval("SELECT count(*) FROM screening_hits") == 1
    # Both snapshots stay on record; only the newest one's names are kept for matching.
    assert await pool.fetchval("SELECT count(*) FROM screening_snapshots") == 2
    assert await pool.fetchval("SELECT count(*) FROM screening_entries") == 26
    newest_names = await pool.fetchval(
        "SELECT names FROM screening_snapshots ORDER BY seq DESC LIMIT 1"
    )
    assert await pool.fetchval("SELECT count(*) FROM screening_names") == newest_names

    # The daily re-screen runs once per interval across instances, and the override holds
    # until it lapses; then the hit opens again and the organisation is suspended.
    day = timedelta(days=1)
    # The service's own job ran at start-up (its first tick), so today's run is taken.
    assert await pool.fetchval("SELECT last_run_at FROM scheduled_runs") == clock()
    async with db.transaction(pool) as conn:
        assert await rescreen_if_due(conn, interval=day, threshold=88.0, now=clock()) is None
    assert await _status(pool, org_id) == "approved"
    clock.advance(366 * 86_400)
    async with db.transaction(pool) as conn:
        outcomes = await rescreen_if_due(conn, interval=day, threshold=88.0, now=clock())
    assert outcomes is not None
    assert await pool.fetchval("SELECT state FROM screening_hits") == "open"
    assert await _status(pool, org_id) == "suspended"


async def test_a_new_listing_suspends_an_approved_organisation(
    client: Client, pool: db.Pool, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    await _import(FIXTURE, database_url)
    admin = await session_caller(pool, clock(), us_person=True)
    created = await call(client, admin, "POST", "/v1/orgs", org_request(domains=[]))
    org_id = created.json()["id"]
    operator = await session_caller(pool, clock(), subject=OPERATOR_SUBJECT)
    approve = {"status": "approved", "reason": "clean screening, documents checked"}
    ok = await call(client, operator, "POST", f"/v1/operator/orgs/{org_id}/status", approve)
    assert ok.status_code == 200, ok.text

    # A later list names the organisation. Columns in another order, optional ones absent.
    listing = tmp_path / "newer.csv"
    listing.write_text(
        "name,source,alt_names,_id\n"
        '"NORTHWIND ANALYTICS, LLC",Entity List (EL) - Bureau of Industry and Security,'
        "NWA; Northwind Data,el-9001\n",
        encoding="utf-8",
    )
    # One entry where the current list has 13: taken for a truncated download, refused,
    # and nothing changes (the open hits of a partial list must not be closed).
    code, _, err = await run_idsvc("screening", "import", str(listing), database_url=database_url)
    assert code == 1
    assert "use --force if the list really shrank" in err
    assert await pool.fetchval("SELECT count(*) FROM screening_snapshots") == 1
    assert await _status(pool, org_id) == "approved"
    out = await _import(listing, database_url, "--force")
    assert "1 new hits, 1 suspended" in out
    forced = await pool.fetchval(
        "SELECT data->>'forced' FROM audit_events WHERE action = 'screening.list.imported'"
        " ORDER BY seq DESC LIMIT 1"
    )
    assert forced == "true"
    assert await _status(pool, org_id) == "suspended"
    event = await pool.fetchrow(
        "SELECT actor, data FROM audit_events WHERE action = 'org.status.suspended'"
    )
    assert event["actor"] == "system"
    assert event["data"]["from"] == "approved"

    # Reinstating needs the hit decided first.
    reinstate = {"status": "approved", "reason": "reviewed the listing"}
    url = f"/v1/operator/orgs/{org_id}/status"
    blocked = await call(client, operator, "POST", url, reinstate)
    assert problem_code(blocked) == "screening_hit"
    # The list is withdrawn again: the next import clears the open hit.
    await _import(FIXTURE, database_url)
    assert await pool.fetchval("SELECT state FROM screening_hits") == "cleared"
    assert (await call(client, operator, "POST", url, reinstate)).status_code == 200


async def test_operators_screen_on_demand(
    client: Client, pool: db.Pool, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    admin = await session_caller(pool, clock(), us_person=True)
    created = await call(client, admin, "POST", "/v1/orgs", org_request(domains=[]))
    org_id = created.json()["id"]
    operator = await session_caller(pool, clock(), subject=OPERATOR_SUBJECT)
    url = f"/v1/operator/orgs/{org_id}/screen"
    nothing = await call(client, operator, "POST", url)
    assert nothing.status_code == 200, nothing.text
    assert nothing.json()["snapshot_id"] is None  # no list imported yet: nothing to match

    approve = {"status": "approved", "reason": "clean screening, documents checked"}
    stale = await call(client, operator, "POST", f"/v1/operator/orgs/{org_id}/status", approve)
    assert problem_code(stale) == "screening_list_stale"  # no list at all: no approval
    await load_list(pool, clock, b"source,name\nSDN,Someone Else Entirely Ltd\n")
    ok = await call(client, operator, "POST", f"/v1/operator/orgs/{org_id}/status", approve)
    assert ok.status_code == 200, ok.text
    # A list is loaded into the database without the import's re-screening (as an older
    # version's import would have): the on-demand screening finds the hit and suspends.
    await load_list(pool, clock, b"source,name\nSDN,Northwind Analytics Incorporated\n")
    screened = await call(client, operator, "POST", url)
    assert screened.status_code == 200
    assert screened.json()["suspended"] is True
    assert len(screened.json()["new_hits"]) == 1
    assert await _status(pool, org_id) == "suspended"
    missing = await call(client, operator, "POST", f"/v1/operator/orgs/{uuid.uuid4()}/screen")
    assert missing.status_code == 404


async def test_a_bad_list_file_is_refused_and_changes_nothing(
    pool: db.Pool, database_url: str, tmp_path: Path
) -> None:
    no_name = tmp_path / "bad.csv"
    no_name.write_text("source,title\nSDN,Director\n", encoding="utf-8")
    code, _, err = await run_idsvc("screening", "import", str(no_name), database_url=database_url)
    assert code == 1
    assert "missing required column(s): name" in err
    empty_row = tmp_path / "empty.csv"
    empty_row.write_text("source,name\nSDN,Acme\nSDN,\n", encoding="utf-8")
    code, _, err = await run_idsvc("screening", "import", str(empty_row), database_url=database_url)
    assert code == 1
    assert "line 3" in err
    assert await pool.fetchval("SELECT count(*) FROM screening_snapshots") == 0
