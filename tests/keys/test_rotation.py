"""Key rotation against a real database: encryption at rest, several instances, audit."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import pytest

from idsvc import db
from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.keys import store
from idsvc.keys.ring import KeyRing
from idsvc.keys.rotation import ensure_keys, rotate
from idsvc.keys.schedule import RotationPolicy, key_state
from idsvc.tokens.revocation import revoke_key_tokens
from tests.support.clock import FakeClock

POLICY = RotationPolicy(
    rotation_interval=timedelta(days=30),
    publish_ahead=timedelta(days=1),
    verify_window=timedelta(seconds=3660),
)


@pytest.fixture
def kek() -> KeyEncryptionKey:
    return KeyEncryptionKey(os.urandom(32))


async def ensure(
    pool: db.Pool, kek: KeyEncryptionKey, clock: FakeClock, algs: tuple = ("ES256",)
) -> None:
    async with db.transaction(pool) as conn:
        await ensure_keys(conn, algorithms=algs, now=clock(), policy=POLICY, kek=kek)


async def test_private_keys_are_encrypted_at_rest(
    pool: db.Pool, kek: KeyEncryptionKey, clock: FakeClock
) -> None:
    await ensure(pool, kek, clock, ("ES256", "EdDSA", "RS256"))
    async with pool.acquire() as conn:
        keys = await store.select_keys(conn)
    assert sorted(k.alg for k in keys) == ["ES256", "ES256", "EdDSA", "EdDSA", "RS256", "RS256"]
    ring = KeyRing(kek)
    async with pool.acquire() as conn:
        await ring.reload(conn, clock())
    for key in keys:
        assert key.kek_id == kek.kek_id
        signer = ring.signing_key(key.alg, clock())
        from cryptography.hazmat.primitives import serialization

        der = signer.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        assert der not in key.private_key_enc
        assert "d" not in key.public_jwk
        assert {"kid", "alg", "use"} <= set(key.public_jwk)
        assert key.public_jwk["use"] == "sig"
        assert "SigningKey(" in repr(signer)
        assert "private" not in repr(signer)


async def test_several_instances_rotating_at_once_create_one_key_each(
    pool: db.Pool, kek: KeyEncryptionKey, clock: FakeClock
) -> None:
    await asyncio.gather(*(ensure(pool, kek, clock) for _ in range(8)))
    async with pool.acquire() as conn:
        keys = await store.select_keys(conn)
    assert sorted(key_state(k.times, clock()) for k in keys) == ["current", "next"]


async def test_every_key_event_is_audited(
    pool: db.Pool, kek: KeyEncryptionKey, clock: FakeClock
) -> None:
    await ensure(pool, kek, clock)
    # Just past the first key's retirement: it is retiring, its successor current.
    clock.advance(POLICY.rotation_interval.total_seconds() + 60)
    await ensure(pool, kek, clock)
    async with db.transaction(pool) as conn:
        await rotate(
            conn,
            alg="ES256",
            now=clock(),
            policy=POLICY,
            kek=kek,
            actor="cli:ops",
            revoke_tokens=revoke_key_tokens,
            emergency=True,
            reason="laptop stolen",
        )
    async with pool.acquire() as conn:
        actions = [
            r["action"] for r in await conn.fetch("SELECT action FROM audit_events ORDER BY seq")
        ]
        revoked = await conn.fetchrow(
            "SELECT actor, data FROM audit_events WHERE action = 'key.revoked'"
        )
    assert actions.count("key.created") >= 3
    assert "key.current" in actions
    assert "key.retiring" in actions
    assert revoked["actor"] == "cli:ops"
    assert revoked["data"]["reason"] == "laptop stolen"


async def test_wrong_kek_cannot_load_keys(
    pool: db.Pool, kek: KeyEncryptionKey, clock: FakeClock
) -> None:
    from idsvc.crypto.key_encryption import KeyEncryptionError

    await ensure(pool, kek, clock)
    ring = KeyRing(KeyEncryptionKey(os.urandom(32)))
    async with pool.acquire() as conn:
        with pytest.raises(KeyEncryptionError):
            await ring.reload(conn, clock())
