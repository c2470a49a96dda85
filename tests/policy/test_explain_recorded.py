"""Every token decision can be explained from the records alone: `idsvc policy explain`
finds the token's event, rebuilds the facts from the evidence it names (attestations by
id, memberships as they stood) and the recorded policy version, and decides again — also
after the evidence changed (a revocation later does not rewrite the past)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from idsvc import db
from idsvc.policy.model import PolicySettings
from tests.support.cli import run_idsvc
from tests.support.clock import FakeClock, WallClock
from tests.support.demo import browser_token, demo_service
from tests.support.signin import sign_in

MODEL = "https://api.example.com/mythos-5"
POLICY = PolicySettings(
    id="mythos-5", version=3, audience=MODEL, entitlements=("model:invoke",),
    deny_nationality_groups=("D:5",),
)  # fmt: skip


@pytest.fixture
def clock() -> FakeClock:
    return WallClock()


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    operators = ("demo:demo-0a6b3c88-email-only",)
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,), operators=operators) as (
        url,
        _,
    ):
        yield url


@pytest.fixture
async def browser(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


async def test_an_issued_token_and_a_denial_are_decided_again_from_the_records(
    browser: httpx.AsyncClient, database_url: str, pool: db.Pool
) -> None:
    await sign_in(browser, "us-citizen")
    token = await browser_token(browser, MODEL)
    issued = await pool.fetchrow(
        "SELECT seq, data FROM audit_events WHERE action = 'token.issued' ORDER BY seq DESC"
    )
    evidence = issued["data"]["evidence"]
    assert len(evidence["attestations"]) >= 2  # the basis and the nationalities, by id
    assert evidence["user_active"] is True
    code, out, err = await run_idsvc(
        "policy", "explain", "--token-jti", issued["data"]["jti"], database_url=database_url
    )
    assert code == 0, out + err
    assert "policy mythos-5@3" in out
    assert "decided again: GRANT model:invoke at IAL2" in out
    assert "reproduced from the records: yes" in out
    assert token  # the token itself is not needed: its jti is enough

    # The attestation is revoked afterwards: the old decision is still reproduced as it
    # was, because the revocation came after it.
    basis = await pool.fetchval(
        "SELECT id FROM attestations WHERE kind = 'us_person_basis' AND revoked_at IS NULL"
    )
    await pool.execute(
        "UPDATE attestations SET revoked_at = now(), revoked_by = 'test', "
        "revoked_reason = '\"document reported stolen\"' WHERE id = $1",
        basis,
    )
    code, out, _ = await run_idsvc(
        "policy", "explain", "--token-jti", issued["data"]["jti"], database_url=database_url
    )
    assert code == 0
    assert "reproduced from the records: yes" in out

    # A denial (a dual national under a D:5 policy) is explained by its event.
    async with httpx.AsyncClient(base_url=str(browser.base_url), timeout=10) as dual:
        await sign_in(dual, "dual-national")
        csrf = (await dual.get("/v1/me")).json()["csrf_token"]
        refused = await dual.post(
            "/v1/eligibility-tokens", json={"audience": MODEL}, headers={"x-csrf-token": csrf}
        )
        assert refused.status_code == 403
    denied = await pool.fetchval(
        "SELECT seq FROM audit_events WHERE action = 'token.denied' ORDER BY seq DESC"
    )
    code, out, _ = await run_idsvc(
        "policy", "explain", "--event", str(denied), database_url=database_url
    )
    assert code == 0, out
    assert "decided again: DENY nationality_denied" in out
    assert "reproduced from the records: yes" in out

    code, _, err = await run_idsvc(
        "policy", "explain", "--token-jti", "no-such-jti", database_url=database_url
    )
    assert code == 2
    assert "no token.issued" in err


async def test_operators_export_a_persons_decision_history(
    browser: httpx.AsyncClient, service: str, pool: db.Pool
) -> None:
    await sign_in(browser, "us-citizen")
    await browser_token(browser, MODEL)
    user_id = await pool.fetchval(
        "SELECT user_id FROM identities WHERE subject = 'demo-7f3c1a20-us-citizen'"
    )
    url = f"/v1/operator/users/{user_id}/decisions"
    assert (await browser.get(url)).status_code == 403  # the person is no operator
    async with httpx.AsyncClient(base_url=service, timeout=10) as operator:
        await sign_in(operator, "email-only")
        history = await operator.get(url)
    assert history.status_code == 200, history.text
    [decision] = history.json()["decisions"]
    assert decision["outcome"] == "issued"
    assert decision["policy"] == "mythos-5@3"
    assert decision["evidence"]["attestations"]
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'person.decisions.exported'"
        )
        == 1
    )


async def test_a_decision_about_an_erased_person_is_not_reproducible(
    browser: httpx.AsyncClient, service: str, database_url: str, pool: db.Pool
) -> None:
    """Erasure replaces the values a decision rested on, for good. Deciding again from what
    is left would state something false about the past ("reproduced: NO", or by chance
    "yes"): the command says the evidence was erased instead, with an exit code of its own,
    for a grant and for a denial alike."""
    await sign_in(browser, "us-citizen")
    await browser_token(browser, MODEL)
    async with httpx.AsyncClient(base_url=service, timeout=10) as dual:
        await sign_in(dual, "dual-national")
        csrf = (await dual.get("/v1/me")).json()["csrf_token"]
        refused = await dual.post(
            "/v1/eligibility-tokens", json={"audience": MODEL}, headers={"x-csrf-token": csrf}
        )
        assert refused.status_code == 403
    decisions = await pool.fetch(
        "SELECT seq, target FROM audit_events WHERE action IN ('token.issued', 'token.denied')"
        " ORDER BY seq"
    )
    assert len(decisions) == 2
    for decision in decisions:
        erase = ("users", "erase", decision["target"].removeprefix("user:"), "--reason",
                 "request of the person", "--despite-retention")  # fmt: skip
        # Despite the retention period: four eyes, one login proposes, another erases.
        code, _, err = await run_idsvc(*erase, database_url=database_url, login="officer-a")
        assert code == 3, err
        code, out, err = await run_idsvc(*erase, database_url=database_url, login="officer-b")
        assert code == 0, err
        code, out, err = await run_idsvc(
            "policy", "explain", "--event", str(decision["seq"]), database_url=database_url
        )
        assert code == 3, out + err
        assert "not reproducible: evidence erased" in out
        assert "reproduced" not in out
        assert "decided again" not in out


def test_a_jti_that_begins_with_a_dash_is_a_value_not_an_option() -> None:
    # One jti in 64 begins with "-" (base64url); argparse took it for an option (found as a
    # flaky test: "expected one argument").
    from idsvc.cli.main import _opaque_values_joined, build_parser

    args = build_parser().parse_args(
        _opaque_values_joined(["policy", "explain", "--token-jti", "-Xo9f"])
    )
    assert args.token_jti == "-Xo9f"
