"""Domain claims and their DNS proof, against a real DNS server on loopback; auto-join
settings; and every domain route tried with another organisation's ids."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from tests.support.clock import FakeClock
from tests.support.dns_server import TxtZone
from tests.support.signin import Caller, call, session_caller
from tests.support.vetting import audit_actions, org_request, problem_code

Client = AsyncTestClient[Litestar]


async def _org(
    client: Client, pool: db.Pool, clock: FakeClock, **body: object
) -> tuple[Caller, str]:
    admin = await session_caller(pool, clock(), us_person=True)
    created = await call(client, admin, "POST", "/v1/orgs", org_request(**body))
    assert created.status_code == 201, created.text
    return admin, created.json()["id"]


async def _domains(pool: db.Pool) -> list[tuple[str, str, bool]]:
    rows = await pool.fetch(
        "SELECT org_id, domain, verified_at IS NOT NULL AS v FROM org_domains ORDER BY 1, 2"
    )
    return [(str(r["org_id"]), r["domain"], r["v"]) for r in rows]


async def test_a_domain_is_verified_by_its_txt_record_and_lost_without_it(
    client: Client, pool: db.Pool, clock: FakeClock, zone: TxtZone
) -> None:
    admin, org_id = await _org(client, pool, clock, domains=[])
    claimed = await call(client, admin, "POST", f"/v1/orgs/{org_id}/domains",
                         {"domain": "Bücher.Example"})  # fmt: skip
    assert claimed.status_code == 201, claimed.text
    domain = claimed.json()
    assert domain["domain"] == "xn--bcher-kva.example"
    assert domain["record"] == "_idsvc-challenge.xn--bcher-kva.example"
    verify = f"/v1/orgs/{org_id}/domains/xn--bcher-kva.example/verify"

    missing = await call(client, admin, "POST", verify)
    assert missing.status_code == 409
    assert problem_code(missing) == "challenge_not_found"
    zone.publish(domain["record"], "some-other-value")
    wrong = await call(client, admin, "POST", verify)
    assert problem_code(wrong) == "challenge_not_found"

    zone.publish(domain["record"], "v=spf1 -all", domain["challenge"])
    # The Unicode form in the path names the same domain.
    verified = await call(client, admin, "POST", f"/v1/orgs/{org_id}/domains/bücher.example/verify")
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] is True
    assert "_idsvc-challenge.xn--bcher-kva.example" in zone.queries

    zone.withdraw(domain["record"])
    clock.advance(600)  # within the session's idle timeout
    lost = await call(client, admin, "POST", verify)
    assert lost.status_code == 409
    assert await _domains(pool) == [(org_id, "xn--bcher-kva.example", False)]
    actions = await audit_actions(pool, f"org:{org_id}")
    assert [a for a in actions if a.startswith("org.domain.")] == [
        "org.domain.claimed",
        "org.domain.verified",
        "org.domain.lost",
    ]


async def test_a_verified_domain_belongs_to_one_organisation(
    client: Client, pool: db.Pool, clock: FakeClock, zone: TxtZone
) -> None:
    first_admin, first = await _org(client, pool, clock, domains=["shared.example"])
    second_admin, second = await _org(
        client, pool, clock, legal_name="Second Co", domains=["shared.example"]
    )  # claiming is open to both: nobody can squat on a claim
    challenges = {
        str(r["org_id"]): r["challenge"]
        for r in await pool.fetch("SELECT org_id, challenge FROM org_domains")
    }
    assert challenges[first] != challenges[second]
    zone.publish("_idsvc-challenge.shared.example", challenges[first], challenges[second])
    ok = await call(client, first_admin, "POST", f"/v1/orgs/{first}/domains/shared.example/verify")
    assert ok.status_code == 200, ok.text
    taken = await call(
        client, second_admin, "POST", f"/v1/orgs/{second}/domains/shared.example/verify"
    )
    assert taken.status_code == 409
    assert problem_code(taken) == "domain_taken"
    again = await call(client, first_admin, "POST", f"/v1/orgs/{first}/domains",
                       {"domain": "SHARED.example."})  # fmt: skip
    assert problem_code(again) == "domain_exists"
    third_admin, third = await _org(client, pool, clock, legal_name="Third Co", domains=[])
    late = await call(client, third_admin, "POST", f"/v1/orgs/{third}/domains",
                      {"domain": "shared.example"})  # fmt: skip
    assert problem_code(late) == "domain_taken"
    assert await _domains(pool) == sorted(
        [(first, "shared.example", True), (second, "shared.example", False)]
    )
    # Once the first organisation lets it go, the second can prove it.
    deleted = await call(client, first_admin, "DELETE", f"/v1/orgs/{first}/domains/shared.example")
    assert deleted.status_code == 204
    ok = await call(
        client, second_admin, "POST", f"/v1/orgs/{second}/domains/shared.example/verify"
    )
    assert ok.status_code == 200
    assert await _domains(pool) == [(second, "shared.example", True)]


@pytest.mark.parametrize(
    ("domain", "code"),
    [
        ("gmail.com", "public_email_domain"),
        ("Proton.Me", "public_email_domain"),
        ("eu.outlook.com", "public_email_domain"),
        ("localhost", "invalid_domain"),
        ("exa mple.com", "invalid_domain"),
        ("-bad.example", "invalid_domain"),
        ("192.168.0.1", "invalid_domain"),
        ("a" * 64 + ".example", "invalid_domain"),
    ],
)
async def test_public_and_malformed_domains_are_refused(
    client: Client, pool: db.Pool, clock: FakeClock, domain: str, code: str
) -> None:
    admin, org_id = await _org(client, pool, clock, domains=[])
    refused = await call(client, admin, "POST", f"/v1/orgs/{org_id}/domains", {"domain": domain})
    assert refused.status_code == 400, refused.text
    assert problem_code(refused) == code
    assert await _domains(pool) == []


async def test_an_unanswering_resolver_changes_nothing(
    client: Client, pool: db.Pool, clock: FakeClock, zone: TxtZone
) -> None:
    admin, org_id = await _org(client, pool, clock)
    [(_, name, _)] = await _domains(pool)
    challenge = await pool.fetchval("SELECT challenge FROM org_domains")
    zone.publish(f"_idsvc-challenge.{name}", challenge)
    url = f"/v1/orgs/{org_id}/domains/{name}/verify"
    assert (await call(client, admin, "POST", url)).status_code == 200
    zone.failing = True  # SERVFAIL: no answer is not an answer that the record is gone
    failed = await call(client, admin, "POST", url)
    assert failed.status_code == 503
    assert problem_code(failed) == "dns_unavailable"
    assert await _domains(pool) == [(org_id, name, True)]


async def test_domain_and_auto_join_routes_refuse_another_organisations_admin(
    client: Client, pool: db.Pool, clock: FakeClock, zone: TxtZone
) -> None:
    victim_admin, victim = await _org(client, pool, clock, domains=["victim.example"])
    attacker, own = await _org(client, pool, clock, legal_name="Attacker", domains=[])
    challenge = await pool.fetchval("SELECT challenge FROM org_domains")
    zone.publish("_idsvc-challenge.victim.example", challenge)
    before = (await _domains(pool), await pool.fetchval("SELECT count(*) FROM audit_events"))
    attempts = [
        ("GET", f"/v1/orgs/{victim}", None),
        ("POST", f"/v1/orgs/{victim}/domains", {"domain": "attacker.example"}),
        ("POST", f"/v1/orgs/{victim}/domains/victim.example/verify", None),
        ("DELETE", f"/v1/orgs/{victim}/domains/victim.example", None),
        ("PUT", f"/v1/orgs/{victim}/auto-join", {"mode": "active"}),
    ]
    for method, url, body in attempts:
        refused = await call(client, attacker, method, url, body)
        assert refused.status_code == 404, (url, refused.text)
    # Its own organisation's URL with the victim's domain: not claimed there, not found.
    wrong = await call(client, attacker, "POST", f"/v1/orgs/{own}/domains/victim.example/verify")
    assert wrong.status_code == 404
    wrong = await call(client, attacker, "DELETE", f"/v1/orgs/{own}/domains/victim.example")
    assert wrong.status_code == 404
    after = (await _domains(pool), await pool.fetchval("SELECT count(*) FROM audit_events"))
    assert after == before
    own_admin = await call(
        client, victim_admin, "POST", f"/v1/orgs/{victim}/domains/victim.example/verify"
    )
    assert own_admin.status_code == 200


async def test_auto_join_needs_a_verified_domain(
    client: Client, pool: db.Pool, clock: FakeClock, zone: TxtZone
) -> None:
    admin, org_id = await _org(client, pool, clock)
    url = f"/v1/orgs/{org_id}/auto-join"
    refused = await call(client, admin, "PUT", url, {"mode": "active"})
    assert refused.status_code == 409
    assert problem_code(refused) == "no_verified_domain"
    bad = await call(client, admin, "PUT", url, {"mode": "always"})
    assert bad.status_code == 400
    challenge = await pool.fetchval("SELECT challenge FROM org_domains")
    zone.publish("_idsvc-challenge.northwind.example", challenge)
    await call(client, admin, "POST", f"/v1/orgs/{org_id}/domains/northwind.example/verify")
    ok = await call(client, admin, "PUT", url, {"mode": "pending"})
    assert ok.status_code == 200, ok.text
    assert await pool.fetchval("SELECT auto_join FROM organisations") == "pending"
    assert (await call(client, admin, "PUT", url, {"mode": "off"})).status_code == 200
    event = await pool.fetch(
        "SELECT data FROM audit_events WHERE action = 'org.auto_join.changed' ORDER BY seq"
    )
    assert [e["data"] for e in event] == [
        {"from": "off", "to": "pending"},
        {"from": "pending", "to": "off"},
    ]


async def test_an_admin_of_the_org_who_is_not_admin_gets_403_and_unknown_org_404(
    client: Client, pool: db.Pool, clock: FakeClock
) -> None:
    _, org_id = await _org(client, pool, clock)
    member = await session_caller(pool, clock(), us_person=True)
    await pool.execute(
        "INSERT INTO memberships (id, org_id, user_id, role, status, source, created_at,"
        " updated_at) VALUES ($1, $2, $3, 'member', 'active', 'operator', $4, $4)",
        uuid.uuid4(), uuid.UUID(org_id), member.user_id, clock(),
    )  # fmt: skip
    refused = await call(client, member, "POST", f"/v1/orgs/{org_id}/domains",
                         {"domain": "member.example"})  # fmt: skip
    assert refused.status_code == 403
    missing = await call(client, member, "POST", f"/v1/orgs/{uuid.uuid4()}/domains",
                         {"domain": "member.example"})  # fmt: skip
    assert missing.status_code == 404
    assert len(await _domains(pool)) == 1
