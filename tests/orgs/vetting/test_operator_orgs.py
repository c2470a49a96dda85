"""The operators' vetting API: queue, status transitions with reasons, programs, and
operators granted at run time by the CLI."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from tests.support.cli import run_idsvc
from tests.support.clock import FakeClock
from tests.support.sealed import opened
from tests.support.signin import Caller, call, session_caller
from tests.support.vetting import (
    OPERATOR_SUBJECT,
    audit_actions,
    load_list,
    org_request,
    problem_code,
)

Client = AsyncTestClient[Litestar]


async def _requested(client: Client, pool: db.Pool, clock: FakeClock) -> tuple[Caller, str]:
    admin = await session_caller(pool, clock(), us_person=True)
    created = await call(client, admin, "POST", "/v1/orgs", org_request(domains=[]))
    assert created.status_code == 201, created.text
    return admin, created.json()["id"]


async def _org_row(pool: db.Pool, org_id: str) -> dict[str, object]:
    """The organisation as stored, its status reason opened (stored sealed)."""
    row = dict(
        await pool.fetchrow(
            "SELECT status, status_reason, programs FROM organisations WHERE id = $1",
            uuid.UUID(org_id),
        )
    )
    if row["status_reason"] is not None:
        row["status_reason"] = await opened(pool, row["status_reason"])
    return row


async def test_operators_approve_suspend_and_reinstate_with_reasons(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    _, org_id = await _requested(client, pool, clock)
    await load_list(pool, clock)
    operator = await session_caller(pool, clock(), subject=OPERATOR_SUBJECT)
    queue = await call(client, operator, "GET", "/v1/operator/orgs?status=pending")
    assert queue.status_code == 200, queue.text
    [queued] = queue.json()["organisations"]
    assert queued["id"] == org_id
    assert queued["screening_hits"] == []

    url = f"/v1/operator/orgs/{org_id}/status"
    approved = await call(
        client, operator, "POST", url, {"status": "approved", "reason": "EIN checked"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    empty = await call(client, operator, "GET", "/v1/operator/orgs?status=pending")
    assert empty.json()["organisations"] == []
    for status, reason in [("suspended", "re-screening"), ("approved", "reviewed, fine")]:
        changed = await call(client, operator, "POST", url, {"status": status, "reason": reason})
        assert changed.status_code == 200, changed.text
    assert await _org_row(pool, org_id) == {
        "status": "approved",
        "status_reason": "reviewed, fine",
        "programs": [],
    }
    events = await pool.fetch(
        "SELECT actor, action, data FROM audit_events WHERE target = $1 AND action LIKE"
        " 'org.status.%' ORDER BY seq",
        f"org:{org_id}",
    )
    assert [
        (e["action"], e["data"]["from"], await opened(pool, e["data"]["reason"])) for e in events
    ] == [
        ("org.status.approved", "pending", "EIN checked"),
        ("org.status.suspended", "approved", "re-screening"),
        ("org.status.approved", "suspended", "reviewed, fine"),
    ]
    assert {e["actor"] for e in events} == {f"user:{operator.user_id}"}


@pytest.mark.parametrize(
    ("start", "body", "status", "code"),
    [
        ("pending", {"status": "suspended", "reason": "why not"}, 409, "invalid_transition"),
        ("approved", {"status": "rejected", "reason": "too late"}, 409, "invalid_transition"),
        ("rejected", {"status": "approved", "reason": "changed mind"}, 409, "invalid_transition"),
        ("pending", {"status": "approved"}, 400, "invalid_request"),  # reason is mandatory
        ("pending", {"status": "approved", "reason": ""}, 400, "invalid_request"),
        ("pending", {"status": "pending", "reason": "back to start"}, 400, "invalid_request"),
        ("pending", {"status": "approved", "reason": "ok", "extra": 1}, 400, "invalid_request"),
    ],
)
async def test_refused_status_changes_change_nothing(
    client: Client,
    pool: db.Pool,
    clock: FakeClock,
    start: str,
    body: dict[str, object],
    status: int,
    code: str,
) -> None:
    _, org_id = await _requested(client, pool, clock)
    await pool.execute(
        "UPDATE organisations SET status = $2 WHERE id = $1", uuid.UUID(org_id), start
    )
    operator = await session_caller(pool, clock(), subject=OPERATOR_SUBJECT)
    before = await audit_actions(pool, f"org:{org_id}")
    refused = await call(client, operator, "POST", f"/v1/operator/orgs/{org_id}/status", body)
    assert refused.status_code == status, refused.text
    assert problem_code(refused) == code
    assert (await _org_row(pool, org_id))["status"] == start
    assert await audit_actions(pool, f"org:{org_id}") == before


async def test_operators_grant_programs(client: Client, pool: db.Pool, clock: FakeClock) -> None:
    _, org_id = await _requested(client, pool, clock)
    await load_list(pool, clock)
    operator = await session_caller(pool, clock(), subject=OPERATOR_SUBJECT)
    url = f"/v1/operator/orgs/{org_id}/programs"
    granted = await call(
        client,
        operator,
        "POST",
        url,
        {"programs": ["critical-infrastructure", "research"], "reason": "as applied"},
    )
    assert granted.status_code == 200, granted.text
    assert granted.json()["programs"] == ["critical-infrastructure", "research"]
    bad = await call(client, operator, "POST", url, {"programs": ["BAD PROGRAM"]})
    assert bad.status_code == 400
    assert (await _org_row(pool, org_id))["programs"] == ["critical-infrastructure", "research"]
    event = await pool.fetchrow(
        "SELECT data FROM audit_events WHERE action = 'org.programs.changed' AND target = $1",
        f"org:{org_id}",
    )
    assert {**event["data"], "reason": await opened(pool, event["data"]["reason"])} == {
        "from": [],
        "to": ["critical-infrastructure", "research"],
        "reason": "as applied",
    }
    missing = await call(client, operator, "POST", f"/v1/operator/orgs/{uuid.uuid4()}/programs",
                         {"programs": []})  # fmt: skip
    assert missing.status_code == 404
    missing = await call(client, operator, "POST", f"/v1/operator/orgs/{uuid.uuid4()}/status",
                         {"status": "approved", "reason": "no such org"})  # fmt: skip
    assert missing.status_code == 404


async def test_non_operators_are_refused_every_operator_route(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    admin, org_id = await _requested(client, pool, clock)
    stranger = await session_caller(pool, clock())
    hit = uuid.uuid4()
    routes = [
        ("GET", "/v1/operator/orgs?status=pending", None),
        ("POST", f"/v1/operator/orgs/{org_id}/status", {"status": "approved", "reason": "me"}),
        ("POST", f"/v1/operator/orgs/{org_id}/programs", {"programs": ["research"]}),
        ("POST", f"/v1/operator/orgs/{org_id}/screen", None),
        (
            "POST",
            f"/v1/operator/orgs/{org_id}/screening-hits/{hit}/override",
            {"justification": "I say this is fine, trust me"},
        ),
    ]
    before = await pool.fetchval("SELECT count(*) FROM audit_events")
    # The organisation's own admin is no operator: an applicant cannot approve itself.
    for caller in (admin, stranger):
        for method, url, body in routes:
            refused = await call(client, caller, method, url, body)
            assert refused.status_code == 403, (url, refused.text)
    assert await _org_row(pool, org_id) == {"status": "pending", "status_reason": None,
                                            "programs": []}  # fmt: skip
    assert await pool.fetchval("SELECT count(*) FROM audit_events") == before


async def test_operators_granted_at_run_time_by_the_cli(
    client: Client, pool: db.Pool, clock: FakeClock, database_url: str
) -> None:
    _, org_id = await _requested(client, pool, clock)
    await load_list(pool, clock)
    deputy = await session_caller(pool, clock())
    url = f"/v1/operator/orgs/{org_id}/status"
    body = {"status": "approved", "reason": "checked the register"}
    assert (await call(client, deputy, "POST", url, body)).status_code == 403

    code, out, err = await run_idsvc(
        "operators", "grant", "--user", str(deputy.user_id), "--reason", "holiday cover",
        database_url=database_url,
    )  # fmt: skip
    assert code == 0, err
    assert "is an operator" in out
    assert (await call(client, deputy, "POST", url, body)).status_code == 200

    code, _, err = await run_idsvc(
        "operators", "revoke", "--user", str(deputy.user_id), "--reason", "back from leave",
        database_url=database_url,
    )  # fmt: skip
    assert code == 0, err
    suspend = {"status": "suspended", "reason": "testing the revocation"}
    assert (await call(client, deputy, "POST", url, suspend)).status_code == 403
    events = await pool.fetch(
        "SELECT action, data FROM audit_events WHERE target = $1 AND action LIKE 'operator.%'"
        " ORDER BY seq",
        f"user:{deputy.user_id}",
    )
    assert [(e["action"], await opened(pool, e["data"]["reason"])) for e in events] == [
        ("operator.granted", "holiday cover"),
        ("operator.revoked", "back from leave"),
    ]

    code, _, err = await run_idsvc(
        "operators", "grant", "--user", str(uuid.uuid4()), "--reason", "nobody",
        database_url=database_url,
    )  # fmt: skip
    assert code == 1
    assert "no user" in err
    code, _, err = await run_idsvc(
        "operators", "revoke", "--user", str(deputy.user_id), database_url=database_url
    )
    assert code == 1


@pytest.mark.parametrize("query", ["status=approvedd", "limit=0", "limit=501", "limit=ten"])
async def test_the_queue_refuses_bad_query_parameters(
    client: Client, pool: db.Pool, clock: FakeClock, query: str
) -> None:
    operator = await session_caller(pool, clock(), subject=OPERATOR_SUBJECT)
    refused = await call(client, operator, "GET", f"/v1/operator/orgs?{query}")
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_the_queue_filters_by_status(client: Client, pool: db.Pool, clock: FakeClock) -> None:
    _, pending = await _requested(client, pool, clock)
    clock.advance(1)  # the queue is oldest first
    _, approved = await _requested(client, pool, clock)
    await pool.execute(
        "UPDATE organisations SET status = 'approved' WHERE id = $1", uuid.UUID(approved)
    )
    operator = await session_caller(pool, clock(), subject=OPERATOR_SUBJECT)
    for query, expected in [("status=pending", [pending]), ("status=approved", [approved]),
                            ("", [pending, approved])]:  # fmt: skip
        listed = await call(client, operator, "GET", f"/v1/operator/orgs?{query}")
        assert [o["id"] for o in listed.json()["organisations"]] == expected


async def test_approvals_and_program_grants_need_a_current_list(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    """No organisation is approved, or granted a program, on a missing or stale list."""
    _, org_id = await _requested(client, pool, clock)
    operator = await session_caller(pool, clock(), subject=OPERATOR_SUBJECT)
    approve = {"status": "approved", "reason": "documents checked"}
    status_url = f"/v1/operator/orgs/{org_id}/status"
    programs_url = f"/v1/operator/orgs/{org_id}/programs"
    grant = {"programs": ["frontier-models"], "reason": "contract signed"}
    for url, body in ((status_url, approve), (programs_url, grant)):
        refused = await call(client, operator, "POST", url, body)
        assert refused.status_code == 409
        assert problem_code(refused) == "screening_list_stale"
    assert (await _org_row(pool, org_id))["status"] == "pending"
    await load_list(pool, clock)
    clock.advance(15 * 86_400)  # past the default 14 days
    operator = await session_caller(
        pool, clock(), subject=OPERATOR_SUBJECT
    )  # a fresh session, two weeks on
    stale = await call(client, operator, "POST", status_url, approve)
    assert problem_code(stale) == "screening_list_stale"
    assert "15 days old" in stale.json()["detail"]
    await load_list(pool, clock)
    assert (await call(client, operator, "POST", status_url, approve)).status_code == 200
    assert (await call(client, operator, "POST", programs_url, grant)).status_code == 200
    events = await pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE action IN ('org.status.approved',"
        " 'org.programs.changed')"
    )
    assert events == 2  # the refusals changed nothing
