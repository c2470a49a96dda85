"""Key rotation end to end: the running service over HTTP, and a gateway's verifier.

A verifier that only refreshes its JWKS on schedule (max-age) must never meet an unknown
kid across rotations; after an emergency rotation, tokens of the dropped key fail once the
verifier refreshes.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import msgspec
import pytest

from idsvc import db
from idsvc.app import create_app
from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.keys import store
from idsvc.keys.ring import KeyRing
from idsvc.keys.rotation import rotate
from idsvc.keys.schedule import key_state
from idsvc.keys.service import rotation_policy
from idsvc.settings import Settings
from idsvc.tokens.mint import mint_eligibility_token
from idsvc.tokens.revocation import revoke_key_tokens
from idsvc.verify import UnknownKey, Verifier
from tests.support.clock import FakeClock
from tests.support.serving import serve_in_thread

AUDIENCE = "mythos-5"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A short publication lead keeps the simulated time between rotations small.
    keys = msgspec.structs.replace(settings.config.keys, publish_ahead=1800)
    return msgspec.structs.replace(
        settings, config=msgspec.structs.replace(settings.config, keys=keys)
    )


@pytest.fixture
def served(settings: Settings, clock: FakeClock) -> Iterator[str]:
    with serve_in_thread(create_app(settings, clock=clock)) as base_url:
        yield base_url


def published_kids(base_url: str) -> set[str]:
    with urllib.request.urlopen(f"{base_url}/.well-known/jwks.json", timeout=5) as response:
        return {k["kid"] for k in json.load(response)["keys"]}


def wait_until_published(base_url: str, predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate(published_kids(base_url)):  # type: ignore[operator]
        assert time.monotonic() < deadline, "the service did not reload its keys"
        time.sleep(0.05)


async def mint(
    pool: db.Pool, kek: KeyEncryptionKey, clock: FakeClock, issuer: str, lifetime: int = 300
) -> tuple[str, str]:
    ring = KeyRing(kek)
    async with pool.acquire() as conn:
        await ring.reload(conn, clock())
    minted = mint_eligibility_token(
        signer=ring.signing_key("ES256", clock()),
        issuer=issuer,
        subject="s",
        audience=AUDIENCE,
        now=clock(),
        lifetime=lifetime,
        entitlements=("e",),
        assurance="IAL2",
        policy_ref="p@1",
    )
    return minted.token, minted.kid


async def test_scheduled_refresh_never_meets_an_unknown_kid_across_three_rotations(
    served: str, settings: Settings, clock: FakeClock, pool: db.Pool
) -> None:
    kek = KeyEncryptionKey.from_text(settings.secrets.key_encryption_key or b"")
    keys = settings.config.keys
    issuer = settings.service.issuer
    verifier = Verifier(
        issuer=issuer,
        audience=AUDIENCE,
        jwks_url=f"{served}/.well-known/jwks.json",
        clock=clock.timestamp,
        # Never refresh on an unknown kid: only the scheduled (max-age) refresh may help.
        jwks_refresh_interval=10**9,
    )
    signers = []
    for _ in range(3):
        tok, kid = await mint(pool, kek, clock, issuer)
        verifier.verify(tok)
        signers.append(kid)
        async with db.transaction(pool) as conn:
            await rotate(
                conn,
                alg="ES256",
                now=clock(),
                policy=rotation_policy(keys),
                kek=kek,
                actor="test",
                revoke_tokens=revoke_key_tokens,
            )
            successor = min(
                (
                    k.times
                    for k in await store.select_live_keys(conn, clock())
                    if key_state(k.times, clock()) == "next"
                ),
                key=lambda t: t.activates_at,
            )
        wait_until_published(served, lambda kids, kid=successor.kid: kid in kids)
        # Time passes until the switch; gateways refresh on schedule meanwhile.
        while (remaining := (successor.activates_at - clock()).total_seconds()) > 0:
            last_of_old_key, _ = await mint(pool, kek, clock, issuer)
            clock.advance(min(keys.jwks_max_age, remaining))
            verifier.verify(last_of_old_key)
        tok, kid = await mint(pool, kek, clock, issuer)
        assert kid == successor.kid
        verifier.verify(tok)  # the new signing key was already known
        verifier.verify(last_of_old_key)  # the retiring key still verifies its tokens
    assert len(set(signers)) == 3


async def test_emergency_rotation_drops_the_key_for_verifiers(
    served: str, settings: Settings, clock: FakeClock, pool: db.Pool
) -> None:
    kek = KeyEncryptionKey.from_text(settings.secrets.key_encryption_key or b"")
    issuer = settings.service.issuer
    verifier = Verifier(
        issuer=issuer,
        audience=AUDIENCE,
        jwks_url=f"{served}/.well-known/jwks.json",
        clock=clock.timestamp,
    )
    compromised, kid = await mint(pool, kek, clock, issuer, lifetime=3600)
    verifier.verify(compromised)
    async with db.transaction(pool) as conn:
        await rotate(
            conn,
            alg="ES256",
            now=clock(),
            policy=rotation_policy(settings.config.keys),
            kek=kek,
            actor="test",
            revoke_tokens=revoke_key_tokens,
            emergency=True,
            reason="key exposed",
        )
    wait_until_published(served, lambda kids: kid not in kids)
    fresh, fresh_kid = await mint(pool, kek, clock, issuer)
    assert fresh_kid != kid
    assert verifier.verify(fresh).aud == AUDIENCE  # new kid: one refresh finds it
    clock.advance(settings.config.keys.jwks_max_age + 1)
    with pytest.raises(UnknownKey):
        verifier.verify(compromised)
