"""idsvc's ES256 tokens validated by a real HAProxy 2.6 itself (docs/gateways/haproxy.cfg:
jwt_verify with the keys of GET /keys/signing-keys.pem, ACLs on alg, typ, iss, aud, exp,
nbf and cnf), with no sidecar; and what it cannot see: revocation."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from idsvc import db
from idsvc.attestations.store import revoke_attestation
from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.keys.ring import KeyRing
from idsvc.policy.model import PolicySettings
from idsvc.settings import Settings
from tests.support.clock import FakeClock, WallClock
from tests.support.demo import browser_token, demo_service, token_subject
from tests.support.forge import Key, dpop_proof, token
from tests.support.gateways.caddy import eligibility_echo
from tests.support.gateways.haproxy import haproxy_in_front, signing_key_blocks, write_signing_keys
from tests.support.gateways.nginx import sidecar
from tests.support.signin import sign_in

# Slow tier: `make test` runs it, `make test-fast` leaves it out.
# A real HAProxy in front of the service.
pytestmark = pytest.mark.slow

MODEL = "https://api.example.com/mythos-5"
OTHER = "https://api.example.com/other-model"
SHORT = "https://api.example.com/mythos-5-short"
POLICIES = (
    PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("model:invoke",)),
    PolicySettings(id="other", version=1, audience=OTHER, entitlements=("model:invoke",)),
    PolicySettings(
        id="short", version=1, audience=SHORT, entitlements=("model:invoke",), token_lifetime=2
    ),
)
CITIZEN_SUBJECT = "demo-7f3c1a20-us-citizen"  # the demo provider's subject for "us-citizen"


@pytest.fixture
def clock() -> FakeClock:
    return WallClock()


@pytest.fixture
def idsvc(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[tuple[str, Settings]]:
    with demo_service(database_url, tmp_path, clock, policies=POLICIES) as running:
        yield running


@pytest.fixture
def service(idsvc: tuple[str, Settings]) -> str:
    return idsvc[0]


@pytest.fixture
def haproxy(service: str, tmp_path: Path) -> Iterator[str]:
    with haproxy_in_front(
        tmp_path, issuer=service, audience=MODEL, api_app=eligibility_echo
    ) as base:
        yield base


@pytest.fixture
async def browser(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


def bearer(tok: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}", **extra}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def resigned(key: ec.EllipticCurvePrivateKey, header: dict[str, Any], claims: object) -> str:
    """A compact JWS with exactly this header and payload, signed ES256 with ``key``
    whatever the header's alg says."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def pem_block(kid: str) -> str:
    """A key that signed nothing, as /keys/signing-keys.pem lists a key."""
    pem = Key().private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return f"# kid: {kid}\n# alg: ES256\n{pem.decode()}"


def claims_of(tok: str) -> dict[str, Any]:
    payload = tok.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


async def test_haproxy_verifies_idsvc_tokens_itself_and_forwards_the_subject(
    browser: httpx.AsyncClient, haproxy: str, service: str
) -> None:
    await sign_in(browser, "us-citizen")
    good = await browser_token(browser, MODEL)
    for_other_audience = await browser_token(browser, OTHER)
    now = int(time.time())
    # Right claims and typ, signed by a key idsvc never published.
    forged = token(Key(), iss=service, aud=MODEL, iat=now, nbf=now, exp=now + 300)
    # idsvc's signature, claims changed afterwards.
    head, _, signature = good.split(".")
    longer = claims_of(good) | {"exp": now + 86_400}
    tampered = ".".join((head, _b64(json.dumps(longer).encode()), signature))
    # Another JWT idsvc signs with the same key: the status list the token points at.
    status_list = claims_of(good)["status"]["status_list"]["uri"]
    list_jwt = (await browser.get(status_list)).text
    assert list_jwt.count(".") == 2
    async with httpx.AsyncClient(base_url=haproxy, timeout=10) as api:
        allowed = await api.get("/v1/infer", headers=bearer(good))
        assert allowed.status_code == 200, allowed.text
        # Exactly the token's subject (the real value, not a fixed string) and nothing else.
        assert allowed.json() == {"x-eligibility-sub": token_subject(good)}
        # A client's own X-Eligibility-* headers never reach the API.
        spoofed = await api.get(
            "/v1/infer",
            headers=bearer(
                good,
                **{"X-Eligibility-Sub": "admin", "x-eligibility-org": "acme"},
                **{"X-Eligibility-Role": "operator"},
            ),
        )
        assert spoofed.status_code == 200
        assert spoofed.json() == {"x-eligibility-sub": token_subject(good)}
        missing = await api.get("/v1/infer", headers={"X-Eligibility-Sub": "admin"})
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        for refused in (for_other_audience, forged, tampered, list_jwt, "not-a-jwt"):
            answer = await api.get("/v1/infer", headers=bearer(refused))
            assert answer.status_code == 401, refused
            assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_haproxy_acls_refuse_tokens_signed_by_idsvcs_own_key(
    browser: httpx.AsyncClient,
    haproxy: str,
    idsvc: tuple[str, Settings],
    database_url: str,
    clock: FakeClock,
) -> None:
    """jwt_verify alone would pass each of these: they carry a valid signature by idsvc's
    current key (taken from the database, as only a test can). The ACLs refuse them."""
    _, settings = idsvc
    ring = KeyRing(KeyEncryptionKey.from_text(settings.secrets.key_encryption_key))
    conn = await db.connect(database_url)
    try:
        await ring.reload(conn, clock())
    finally:
        await conn.close()
    signer = ring.signing_key("ES256", clock())
    assert isinstance(signer.private_key, ec.EllipticCurvePrivateKey)
    await sign_in(browser, "us-citizen")
    good = await browser_token(browser, MODEL)
    header = json.loads(base64.urlsafe_b64decode(good.split(".")[0] + "=="))
    claims = claims_of(good)
    now = int(time.time())
    without_exp = {name: value for name, value in claims.items() if name != "exp"}
    variants = {
        "alg is not ES256": (header | {"alg": "ES512"}, claims),
        "typ is not eligibility+jwt": (header | {"typ": "JWT"}, claims),
        "another issuer": (header, claims | {"iss": "https://id.example.net"}),
        "not valid yet": (header, claims | {"nbf": now + 120}),
        "no exp": (header, without_exp),
    }
    async with httpx.AsyncClient(base_url=haproxy, timeout=10) as api:
        # The same header and claims signed again here pass: the signing is right.
        control = resigned(signer.private_key, header, claims)
        assert (await api.get("/v1/infer", headers=bearer(control))).status_code == 200
        for why, (head, body) in variants.items():
            answer = await api.get(
                "/v1/infer", headers=bearer(resigned(signer.private_key, head, body))
            )
            assert answer.status_code == 401, why


async def test_haproxy_refuses_dpop_bound_tokens_it_cannot_check(
    browser: httpx.AsyncClient, haproxy: str, service: str
) -> None:
    await sign_in(browser, "us-citizen")
    holder = Key()
    issuance_proof = dpop_proof(
        holder, "", ath=None, htu=f"{service}/v1/eligibility-tokens", iat=time.time()
    )
    bound = await browser_token(browser, MODEL, dpop=issuance_proof)
    assert "cnf" in claims_of(bound)
    async with httpx.AsyncClient(base_url=haproxy, timeout=10) as api:
        # Presented as a plain bearer token (a thief's way), and as DPoP with a valid proof.
        as_bearer = await api.post("/v1/infer", headers=bearer(bound))
        assert as_bearer.status_code == 401
        proof = dpop_proof(holder, bound, htm="POST", htu=f"{haproxy}/v1/infer", iat=time.time())
        as_dpop = await api.post(
            "/v1/infer", headers={"Authorization": f"DPoP {bound}", "DPoP": proof}
        )
        assert as_dpop.status_code == 401


async def test_haproxy_refuses_expired_tokens(
    browser: httpx.AsyncClient, service: str, tmp_path: Path
) -> None:
    await sign_in(browser, "us-citizen")
    with haproxy_in_front(tmp_path, issuer=service, audience=SHORT) as base:
        short_lived = await browser_token(browser, SHORT)
        async with httpx.AsyncClient(base_url=base, timeout=10) as api:
            fresh = await api.get("/v1/infer", headers=bearer(short_lived))
            assert fresh.status_code == 200
            assert fresh.text == f"sub={token_subject(short_lived)} org="
            # HAProxy's date() counts whole seconds: refused from the second exp names.
            await asyncio.sleep(claims_of(short_lived)["exp"] - time.time() + 0.1)
            stale = await api.get("/v1/infer", headers=bearer(short_lived))
            assert stale.status_code == 401


def test_each_published_es256_key_gets_a_key_file(tmp_path: Path) -> None:
    export = "\n".join((pem_block("next"), pem_block("current")))
    assert write_signing_keys(export, tmp_path) == ["next", "current"]
    slots = [(tmp_path / f"signing-key-{n}.pem").read_text() for n in (1, 2, 3)]
    assert slots[0].startswith("# kid: next\n")
    # Every file the configuration names must exist: the last key fills the free slot.
    assert slots[1] == slots[2]
    assert slots[2].startswith("# kid: current\n")
    with pytest.raises(AssertionError):
        write_signing_keys("\n".join(pem_block(f"k{n}") for n in range(4)), tmp_path)


async def test_haproxy_tries_each_key_file_in_turn(
    browser: httpx.AsyncClient, service: str, tmp_path: Path
) -> None:
    await sign_in(browser, "us-citizen")
    good = await browser_token(browser, MODEL)
    kid = json.loads(base64.urlsafe_b64decode(good.split(".")[0] + "=="))["kid"]
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        published = signing_key_blocks((await client.get("/keys/signing-keys.pem")).text)
    # Two keys that signed nothing fill the first slots: the token verifies with the third.
    keys = pem_block("other-1") + pem_block("other-2") + published[kid]
    with haproxy_in_front(tmp_path, issuer=service, audience=MODEL, keys=keys) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as api:
            allowed = await api.get("/v1/infer", headers=bearer(good))
            assert allowed.status_code == 200
            assert allowed.text == f"sub={token_subject(good)} org="


async def test_haproxy_cannot_see_revocation(
    browser: httpx.AsyncClient, haproxy: str, service: str, database_url: str, clock: FakeClock
) -> None:
    """What docs/gateways/README.md says: HAProxy alone passes a revoked token until it
    expires. Put the sidecar in front where revocation matters."""
    await sign_in(browser, "us-citizen")
    good = await browser_token(browser, MODEL)
    conn = await db.connect(database_url)
    try:
        attestation = await conn.fetchval(
            "SELECT a.id FROM attestations a JOIN identities i ON i.user_id = a.user_id "
            "WHERE i.subject = $1 AND a.kind = 'us_person_basis'",
            CITIZEN_SUBJECT,
        )
        async with conn.transaction():
            assert await revoke_attestation(
                conn, attestation, actor="operator", reason="document reported stolen", now=clock()
            )
    finally:
        await conn.close()
    # The sidecar, which reads the token's status list, refuses it...
    with sidecar(service, MODEL) as address:
        async with httpx.AsyncClient(timeout=10) as client:
            checked = await client.get(f"http://{address}/check", headers=bearer(good))
    assert checked.status_code == 403
    assert "revoked" in checked.headers["www-authenticate"]
    # ...while HAProxy, which cannot read it, still lets the token through.
    async with httpx.AsyncClient(base_url=haproxy, timeout=10) as api:
        still = await api.get("/v1/infer", headers=bearer(good))
        assert still.status_code == 200
        assert still.json() == {"x-eligibility-sub": token_subject(good)}
