"""Token exchange (RFC 8693) for trusted backends, and introspection and revocation, over
HTTP against the running service and a real OpenID provider on loopback."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from idsvc.app import create_app
from idsvc.config.oauth import ClientSettings
from idsvc.config.providers import ProviderSettings
from idsvc.policy.model import PolicySettings
from idsvc.settings import Settings
from tests.support.clock import FakeClock
from tests.support.forge import Key, dpop_proof
from tests.support.hostile_idp import CLIENT_ID, CLIENT_SECRET, HostileIdP, running_hostile_idp
from tests.support.serving import free_port, serve_in_thread
from tests.support.settings import make_settings
from tests.support.signin import sign_in

MODEL = "https://api.example.com/mythos-5"
BACKEND_AUD = "backend-app"
SECRET = "backend-secret-" + "x" * 32
POLICY = PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("model:invoke",))
ASSERTION_KEY = ECKey.generate_key("P-256", parameters={"kid": "b1", "alg": "ES256"})
CLIENTS = (
    ClientSettings(
        id="backend",
        type="confidential",
        auth_method="client_secret_basic",
        secret_sha256=hashlib.sha256(SECRET.encode()).hexdigest(),
        grant_types=("urn:ietf:params:oauth:grant-type:token-exchange",),
        exchange_providers=("upstream",),
        exchange_audiences=(BACKEND_AUD,),
    ),
    ClientSettings(
        id="signed-backend",
        type="confidential",
        auth_method="private_key_jwt",
        jwks={"keys": [ASSERTION_KEY.as_dict(private=False)]},
        grant_types=("urn:ietf:params:oauth:grant-type:token-exchange",),
        exchange_providers=("upstream",),
        exchange_audiences=(BACKEND_AUD,),
    ),
)
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


@pytest.fixture
def clock() -> FakeClock:
    # The provider stamps tokens with the wall clock; keep idsvc on the same time.
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def idp() -> Iterator[HostileIdP]:
    with running_hostile_idp() as provider:
        yield provider


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, port: int) -> Settings:
    """One configuration (one issuer, one key-encryption key) for every instance."""
    return make_settings(
        database_url,
        tmp_path,
        policies=(POLICY,),
        clients=CLIENTS,
        issuer=f"http://127.0.0.1:{port}",
        cookie_secure=False,
    )


def _instance(idp: HostileIdP, settings: Settings, clock: FakeClock) -> Any:
    provider = ProviderSettings(
        id="upstream",
        display_name="Upstream",
        issuer=idp.issuer,
        client_id=CLIENT_ID,
        trusted_for=("sign_in", "nationality", "us_person_status"),
        trust_frameworks=("nist_800_63A",),
        assurance_map={"IAL2": "IAL2"},
    )
    return create_app(settings, clock=clock, extra_providers=((provider, CLIENT_SECRET),))


@pytest.fixture
def service(idp: HostileIdP, settings: Settings, clock: FakeClock, port: int) -> Iterator[str]:
    with serve_in_thread(_instance(idp, settings, clock), port=port) as base_url:
        yield base_url


@pytest.fixture
def second_instance(
    service: str, idp: HostileIdP, settings: Settings, clock: FakeClock
) -> Iterator[str]:
    """Another instance on the same database, as behind a load balancer: the same
    configuration and issuer URL (proofs and assertions name the issuer), its own port and
    its own memory."""
    with serve_in_thread(_instance(idp, settings, clock)) as url:
        yield url


@pytest.fixture
async def http(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


async def signed_up(http: httpx.AsyncClient) -> None:
    """The person signs in once through the provider, so idsvc knows the identity."""
    done = await sign_in(http, provider="upstream")
    assert done.status_code == 303, done.text


def id_token(idp: HostileIdP, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": idp.issuer,
        "sub": idp.subject,
        "aud": BACKEND_AUD,
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return jwt.encode({"alg": "ES256", "kid": "good"}, claims, idp.key)


def basic(client_id: str = "backend", secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def exchange(http: httpx.AsyncClient, subject_token: str, **extra: str) -> httpx.Response:
    form = {
        "grant_type": EXCHANGE,
        "subject_token": subject_token,
        "subject_token_type": ID_TOKEN,
        "resource": MODEL,
        **extra,
    }
    return await http.post("/oauth2/token", data=form, headers=basic())


async def test_a_backend_exchanges_an_upstream_id_token_for_an_eligibility_token(
    http: httpx.AsyncClient, idp: HostileIdP
) -> None:
    await signed_up(http)
    response = await exchange(http, id_token(idp))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert "refresh_token" not in body
    introspected = await http.post(
        "/oauth2/introspect", data={"token": body["access_token"]}, headers=basic()
    )
    assert introspected.json()["active"] is True
    assert introspected.json()["aud"] == MODEL


@pytest.mark.parametrize(
    ("case", "overrides"),
    [
        ("unconfigured issuer", {"iss": "https://elsewhere.example"}),
        ("expired", {"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}),
        ("other audience", {"aud": "someone-else"}),
        ("unknown subject", {"sub": "never-signed-in"}),
    ],
)
async def test_unacceptable_id_tokens_are_refused(
    http: httpx.AsyncClient, idp: HostileIdP, case: str, overrides: dict[str, Any]
) -> None:
    await signed_up(http)
    response = await exchange(http, id_token(idp, **overrides))
    assert response.status_code == 400, case
    assert response.json()["error"] == "invalid_grant", case


async def test_a_token_signed_by_another_key_is_refused(
    http: httpx.AsyncClient, idp: HostileIdP
) -> None:
    await signed_up(http)
    forged = jwt.encode(
        {"alg": "ES256", "kid": "good"},
        {
            "iss": idp.issuer,
            "sub": idp.subject,
            "aud": BACKEND_AUD,
            "iat": int(time.time()),
            "exp": int(time.time()) + 300,
        },
        idp.stranger,
    )
    response = await exchange(http, forged)
    assert response.json()["error"] == "invalid_grant"


async def test_client_authentication_failures_look_alike(
    http: httpx.AsyncClient, idp: HostileIdP
) -> None:
    form = {
        "grant_type": EXCHANGE,
        "subject_token": id_token(idp),
        "subject_token_type": ID_TOKEN,
        "resource": MODEL,
    }
    wrong_secret = await http.post("/oauth2/token", data=form, headers=basic(secret="nope"))
    unknown = await http.post("/oauth2/token", data=form, headers=basic(client_id="ghost"))
    no_credentials = await http.post("/oauth2/token", data={**form, "client_id": "backend"})
    for response in (wrong_secret, unknown, no_credentials):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert response.json()["error_description"] == "client authentication failed"


def assertion(**overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": "signed-backend",
        "sub": "signed-backend",
        "aud": "ISSUER",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(8),
    }
    claims.update(overrides)
    return jwt.encode({"alg": "ES256", "kid": "b1"}, claims, ASSERTION_KEY)


async def test_private_key_jwt_clients_and_assertion_replay(
    http: httpx.AsyncClient, idp: HostileIdP, service: str
) -> None:
    await signed_up(http)
    signed = assertion(aud=f"{service}/oauth2/token")
    form = {
        "grant_type": EXCHANGE,
        "subject_token": id_token(idp),
        "subject_token_type": ID_TOKEN,
        "resource": MODEL,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": signed,
    }
    assert (await http.post("/oauth2/token", data=form)).status_code == 200
    replayed = await http.post("/oauth2/token", data=form)
    assert replayed.json()["error"] == "invalid_client"
    wrong_audience = await http.post(
        "/oauth2/token", data={**form, "client_assertion": assertion(aud="https://other")}
    )
    assert wrong_audience.json()["error"] == "invalid_client"


async def test_metadata_lists_every_endpoint_grant_and_method(
    http: httpx.AsyncClient, service: str
) -> None:
    metadata = (await http.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["token_endpoint"] == f"{service}/oauth2/token"
    assert metadata["device_authorization_endpoint"] == f"{service}/oauth2/device_authorization"
    assert set(metadata["grant_types_supported"]) == {
        "urn:ietf:params:oauth:grant-type:device_code",
        "refresh_token",
        EXCHANGE,
    }
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "none",
        "client_secret_basic",
        "private_key_jwt",
    }
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]
    assert metadata["introspection_endpoint"].endswith("/oauth2/introspect")
    assert metadata["revocation_endpoint"].endswith("/oauth2/revoke")


async def test_introspection_needs_a_confidential_client_and_says_little_about_junk(
    http: httpx.AsyncClient,
) -> None:
    public = await http.post("/oauth2/introspect", data={"client_id": "idsvc-cli", "token": "x"})
    assert public.status_code == 401
    junk = await http.post("/oauth2/introspect", data={"token": "not-a-token"}, headers=basic())
    assert junk.json() == {"active": False}


async def test_a_replay_to_another_instance_is_refused(
    http: httpx.AsyncClient, idp: HostileIdP, service: str, second_instance: str
) -> None:
    """Found: replay caches were per instance, so a client assertion or a DPoP proof used
    at one instance was accepted by the next one behind the same load balancer."""
    await signed_up(http)
    holder = Key("ES256")

    def proof() -> str:
        return dpop_proof(holder, "", htu=f"{service}/oauth2/token", iat=time.time(), ath=None)

    def form(signed: str) -> dict[str, str]:
        return {
            "grant_type": EXCHANGE,
            "subject_token": id_token(idp),
            "subject_token_type": ID_TOKEN,
            "resource": MODEL,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": signed,
        }

    async with httpx.AsyncClient(base_url=second_instance, timeout=10) as other:
        signed, used_proof = assertion(aud=f"{service}/oauth2/token"), proof()
        first = await http.post("/oauth2/token", data=form(signed), headers={"DPoP": used_proof})
        assert first.status_code == 200, first.text
        # The same assertion at the other instance (with a fresh proof): single use.
        again = await other.post("/oauth2/token", data=form(signed), headers={"DPoP": proof()})
        assert again.status_code == 401
        assert again.json()["error"] == "invalid_client"
        # The same proof at the other instance (with a fresh assertion): single use.
        fresh = assertion(aud=f"{service}/oauth2/token")
        replayed = await other.post("/oauth2/token", data=form(fresh), headers={"DPoP": used_proof})
        assert replayed.status_code == 400
        assert replayed.json()["error"] == "invalid_dpop_proof"
        # Control: fresh values are accepted by the other instance.
        ok = await other.post(
            "/oauth2/token",
            data=form(assertion(aud=f"{service}/oauth2/token")),
            headers={"DPoP": proof()},
        )
        assert ok.status_code == 200, ok.text
