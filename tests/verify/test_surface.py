"""The verifier's public surface: import isolation, __all__, middleware, CLI, interop."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import jwt as pyjwt
import pytest

import idsvc.verify
from idsvc.jose.jwk import thumbprint
from idsvc.verify import Verifier
from idsvc.verify.asgi import EligibilityMiddleware
from idsvc.verify.errors import VerificationError
from tests.support.forge import AUDIENCE, ISSUER, NOW, Key, dpop_proof, token

KEY = Key()


def test_importing_the_verifier_loads_nothing_of_the_server() -> None:
    code = (
        "import sys, idsvc.verify, idsvc.verify.asgi, idsvc.verify.cli\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('litestar', 'asyncpg', 'httpx', 'jinja2', 'authlib', 'uvicorn', 'pgserver') "
        "or (m.startswith('idsvc.') and not m.startswith(('idsvc.verify', 'idsvc.jose')))]\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_all_is_complete() -> None:
    public = {
        name
        for name, value in vars(idsvc.verify).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("idsvc.verify")
    }
    assert public == set(idsvc.verify.__all__)
    errors = {
        n
        for n in idsvc.verify.__all__
        if isinstance(getattr(idsvc.verify, n), type)
        and issubclass(getattr(idsvc.verify, n), VerificationError)
    }
    codes = [getattr(idsvc.verify, n).code for n in errors]
    assert len(codes) == len(set(codes)), "every error has its own code"


def test_token_signed_by_pyjwt_is_accepted() -> None:
    claims = {
        "iss": ISSUER,
        "sub": "s",
        "aud": AUDIENCE,
        "iat": int(NOW),
        "nbf": int(NOW),
        "exp": int(NOW) + 60,
        "jti": "j",
        "entitlements": [],
        "assurance": "IAL2",
        "pol": "p@1",
    }
    tok = pyjwt.encode(
        claims, KEY.private, algorithm="ES256", headers={"kid": KEY.kid, "typ": "eligibility+jwt"}
    )
    v = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks=KEY.jwks(), clock=lambda: NOW)
    assert v.verify(tok).sub == "s"


async def protected_app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
    claims = scope["state"]["eligibility"]
    await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": claims.sub.encode()})  # type: ignore[operator]


@pytest.fixture
def client() -> httpx.AsyncClient:
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks=KEY.jwks(), clock=lambda: NOW)
    app = EligibilityMiddleware(protected_app, verifier, public_base_url="https://api.example")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://internal")


async def test_middleware_admits_a_valid_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/infer", headers={"Authorization": f"Bearer {token(KEY)}"})
    assert response.status_code == 200
    assert response.text == "pairwise-sub"


@pytest.mark.parametrize(
    ("headers", "description"),
    [
        ({}, None),
        ({"Authorization": "Basic abc"}, None),
        ({"Authorization": "Bearer nope"}, "malformed"),
        ({"Authorization": f"Bearer {token(KEY, aud='other')}"}, "wrong_audience"),
    ],
)
async def test_middleware_refuses_with_a_reason(
    client: httpx.AsyncClient, headers: dict[str, str], description: str | None
) -> None:
    response = await client.get("/v1/infer", headers=headers)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    if description is None:
        # RFC 6750 §3.1: a request without credentials gets a bare challenge.
        assert challenge == "Bearer"
    else:
        assert challenge.startswith('Bearer error="invalid_token"')
        assert description in challenge


async def test_middleware_checks_dpop_against_the_public_url(client: httpx.AsyncClient) -> None:
    holder = Key()
    tok = token(KEY, cnf={"jkt": thumbprint(holder.jwk)})
    proof = dpop_proof(holder, tok, htm="POST", htu="https://api.example/v1/infer")
    ok = await client.post("/v1/infer", headers={"Authorization": f"DPoP {tok}", "DPoP": proof})
    assert ok.status_code == 200
    downgrade = await client.post(
        "/v1/infer",
        headers={
            "Authorization": f"Bearer {tok}",
            "DPoP": dpop_proof(holder, tok, htu="https://api.example/v1/infer"),
        },
    )
    assert downgrade.status_code == 401
    assert downgrade.headers["www-authenticate"].startswith("DPoP ")
    no_proof = await client.post("/v1/infer", headers={"Authorization": f"DPoP {tok}"})
    assert "dpop_required" in no_proof.headers["www-authenticate"]


def test_cli_verifies_against_a_jwks_file(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(KEY.jwks()))
    import time

    now = int(time.time())
    good = token(KEY, iat=now, nbf=now, exp=now + 60)
    args = ["--issuer", ISSUER, "--audience", AUDIENCE, "--jwks", str(jwks)]
    ok = subprocess.run(
        [sys.executable, "-m", "idsvc.cli", "verify-token", good, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["aud"] == AUDIENCE
    bad = subprocess.run(
        [sys.executable, "-m", "idsvc.cli", "verify-token", good, *args[:-1], "/nonexistent"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert "jwks_unavailable" in bad.stderr
