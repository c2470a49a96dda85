"""The check sidecar's answers, as NGINX auth_request and Envoy ext_authz ask."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from idsvc.gateway.app import GatewayApp
from idsvc.jose.jwk import thumbprint
from idsvc.tokens.status_list import INVALID
from idsvc.verify import Verifier
from tests.support.forge import AUDIENCE, ISSUER, NOW, Key, dpop_proof, status_list, token

KEY = Key()
PUBLIC = "https://api.example"


@pytest.fixture
async def sidecar() -> AsyncIterator[httpx.AsyncClient]:
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks=KEY.jwks(), clock=lambda: NOW)
    app = GatewayApp(verifier, public_base_url=PUBLIC, clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sidecar") as client:
        yield client


def nginx(headers: dict[str, str], method: str = "GET", uri: str = "/v1/infer") -> dict[str, str]:
    """What our NGINX configuration adds to the auth sub-request."""
    return {"X-Original-Method": method, "X-Original-URL": f"http://10.0.0.5:8080{uri}", **headers}


async def test_a_valid_token_is_allowed_with_its_claims_as_headers(
    sidecar: httpx.AsyncClient,
) -> None:
    response = await sidecar.get(
        "/check",
        headers=nginx(
            {"Authorization": f"Bearer {token(KEY, org={'id': 'org-1', 'programs': []})}"}
        ),
    )
    assert response.status_code == 200
    assert response.headers["x-eligibility-sub"] == "pairwise-sub"
    assert response.headers["x-eligibility-entitlements"] == "model:mythos-5:invoke"
    assert response.headers["x-eligibility-policy"] == "mythos-5@3"
    assert response.headers["x-eligibility-org"] == "org-1"


@pytest.mark.parametrize(
    ("headers", "status", "challenge"),
    [
        ({}, 401, "Bearer"),
        (
            {"Authorization": "Bearer not-a-token"},
            401,
            'Bearer error="invalid_token", error_description="malformed"',
        ),
        (
            {"Authorization": f"Bearer {token(KEY, aud='other')}"},
            401,
            'Bearer error="invalid_token", error_description="wrong_audience"',
        ),
        (
            {"Authorization": f"Bearer {token(KEY, exp=int(NOW) - 3600)}"},
            401,
            'Bearer error="invalid_token", error_description="expired"',
        ),
        (
            {"Authorization": f"Bearer {token(Key())}"},
            401,
            'Bearer error="invalid_token", error_description="unknown_key"',
        ),
    ],
)
async def test_refusals_say_why_in_the_challenge(
    sidecar: httpx.AsyncClient, headers: dict[str, str], status: int, challenge: str
) -> None:
    response = await sidecar.get("/check", headers=nginx(headers))
    assert response.status_code == status
    assert response.headers["www-authenticate"] == challenge
    assert not any(h.startswith("x-eligibility") for h in response.headers)


async def test_dpop_is_checked_against_the_original_method_and_public_url(
    sidecar: httpx.AsyncClient,
) -> None:
    holder = Key()
    tok = token(KEY, cnf={"jkt": thumbprint(holder.jwk)})
    proof = dpop_proof(holder, tok, htm="POST", htu=f"{PUBLIC}/v1/infer", iat=NOW)
    ok = await sidecar.get(
        "/check", headers=nginx({"Authorization": f"DPoP {tok}", "DPoP": proof}, method="POST")
    )
    assert ok.status_code == 200
    other = dpop_proof(holder, tok, htm="POST", htu=f"{PUBLIC}/v1/infer", iat=NOW)
    wrong_method = await sidecar.get(
        "/check", headers=nginx({"Authorization": f"DPoP {tok}", "DPoP": other}, method="GET")
    )
    assert wrong_method.status_code == 401
    assert "dpop_wrong_method" in wrong_method.headers["www-authenticate"]
    downgrade = await sidecar.get("/check", headers=nginx({"Authorization": f"Bearer {tok}"}))
    assert downgrade.status_code == 401
    assert downgrade.headers["www-authenticate"].startswith("DPoP ")


async def test_envoy_style_requests_carry_the_original_method_and_path(
    sidecar: httpx.AsyncClient,
) -> None:
    holder = Key()
    tok = token(KEY, cnf={"jkt": thumbprint(holder.jwk)})
    proof = dpop_proof(holder, tok, htm="PUT", htu=f"{PUBLIC}/v1/jobs/7", iat=NOW)
    response = await sidecar.put(
        "/check/v1/jobs/7", headers={"Authorization": f"DPoP {tok}", "DPoP": proof}
    )
    assert response.status_code == 200


async def test_health_and_metrics_describe_the_sidecar(sidecar: httpx.AsyncClient) -> None:
    assert (await sidecar.get("/healthz")).status_code == 200
    await sidecar.get("/check", headers=nginx({}))
    metrics = (await sidecar.get("/metrics")).text
    assert 'idsvc_gateway_decisions_total{outcome="deny",reason="missing_token"} 1.0' in metrics
    assert "idsvc_gateway_jwks_age_seconds" in metrics
    assert "idsvc_gateway_status_list_age_seconds" in metrics
    assert (await sidecar.get("/elsewhere")).status_code == 404


async def test_without_keys_the_sidecar_is_unhealthy_and_refuses() -> None:
    verifier = Verifier(
        issuer=ISSUER, audience=AUDIENCE, jwks_url="http://127.0.0.1:9/jwks.json", fetch_timeout=0.5
    )
    app = GatewayApp(verifier)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sidecar"
    ) as client:
        assert (await client.get("/healthz")).status_code == 503
        refused = await client.get(
            "/check", headers=nginx({"Authorization": f"Bearer {token(KEY)}"})
        )
        assert refused.status_code == 401


async def test_two_dpop_headers_are_refused(sidecar: httpx.AsyncClient) -> None:
    """RFC 9449 §4.3: one DPoP header per request. Each proof alone is valid here, so only
    the count can refuse the request."""
    holder = Key()
    tok = token(KEY, cnf={"jkt": thumbprint(holder.jwk)})
    proofs = [
        dpop_proof(holder, tok, htm="POST", htu=f"{PUBLIC}/v1/infer", iat=NOW) for _ in range(2)
    ]
    headers = [*nginx({"Authorization": f"DPoP {tok}"}, method="POST").items()]
    twice = await sidecar.get(
        "/check", headers=[*headers, ("DPoP", proofs[0]), ("DPoP", proofs[1])]
    )
    assert twice.status_code == 401
    assert "dpop_malformed" in twice.headers["www-authenticate"]
    once = await sidecar.get("/check", headers=[*headers, ("DPoP", proofs[0])])
    assert once.status_code == 200


async def test_an_older_status_list_does_not_let_a_revoked_token_through(tmp_path: Path) -> None:
    """The sidecar inherits the verifier's rule that lists only move forward: an old list
    copied into its folder after a newer one is refused, the newer one kept."""
    uri = f"{ISSUER}/status-lists/5"
    now = [NOW]
    verifier = Verifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks=KEY.jwks(),
        clock=lambda: now[0],
        status_list_dir=tmp_path,
    )
    app = GatewayApp(verifier, public_base_url=PUBLIC, clock=lambda: now[0])
    tok = token(KEY, exp=int(NOW) + 3600, status={"status_list": {"idx": 9, "uri": uri}})
    (tmp_path / "5").write_bytes(status_list(KEY, uri=uri, iat=int(NOW), statuses={9: INVALID}))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sidecar"
    ) as client:
        headers = nginx({"Authorization": f"Bearer {tok}"})
        assert (await client.get("/check", headers=headers)).status_code == 403
        (tmp_path / "5").write_bytes(status_list(KEY, uri=uri, iat=int(NOW) - 100))
        now[0] += 61  # past the newer list's ttl: the folder is read again
        refused = await client.get("/check", headers=headers)
        assert refused.status_code == 403
        assert 'error_description="revoked"' in refused.headers["www-authenticate"]
