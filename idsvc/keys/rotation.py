"""Applying rotation plans: key generation, schedule changes and revocation, each audited.

Every function takes the advisory lock first, so with several instances exactly one
rotates and the others then see its result. A change is announced with NOTIFY so every
instance reloads its key ring at once rather than at its next periodic refresh.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import msgspec

from idsvc.audit import record_event
from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.db import Connection
from idsvc.keys import store
from idsvc.keys.material import Algorithm, encrypt_private_key, generate_private_key, public_jwk
from idsvc.keys.schedule import (
    KeyTimes,
    Plan,
    RotationPolicy,
    emergency_plan,
    key_state,
    manual_rotation_plan,
    scheduled_plan,
)

__all__ = ["TokenRevoker", "announce_transitions", "apply_plan", "ensure_keys", "rotate"]

Planner = Callable[[list[KeyTimes], datetime, RotationPolicy], Plan]


class TokenRevoker(Protocol):
    """Invalidates, in the status lists, every live token a revoked key signed
    (idsvc.tokens.revocation.revoke_key_tokens; passed in because tokens sit above keys)."""

    async def __call__(
        self, conn: Connection, kid: str, *, actor: str, reason: str, now: datetime
    ) -> object: ...


async def _plan_and_apply(
    conn: Connection,
    planner: Planner,
    *,
    alg: Algorithm,
    now: datetime,
    policy: RotationPolicy,
    kek: KeyEncryptionKey,
    actor: str,
    reason: str,
    revoke_tokens: TokenRevoker | None,
) -> Plan:
    await store.lock_keys(conn)
    keys = [k.times for k in await store.select_live_keys(conn, now) if k.alg == alg]
    plan = planner(keys, now, policy)
    await apply_plan(
        conn,
        plan,
        alg=alg,
        now=now,
        kek=kek,
        actor=actor,
        reason=reason,
        revoke_tokens=revoke_tokens,
    )
    return plan


async def apply_plan(
    conn: Connection,
    plan: Plan,
    *,
    alg: Algorithm,
    now: datetime,
    kek: KeyEncryptionKey,
    actor: str,
    reason: str,
    revoke_tokens: TokenRevoker | None,
) -> list[str]:
    """Write a plan; return the kids created. A plan that revokes needs ``revoke_tokens``:
    a key is never revoked while what it signed stays valid."""
    if plan.revoke and revoke_tokens is None:
        raise RuntimeError("revoking a key needs a TokenRevoker for the tokens it signed")
    created = []
    for kid in plan.revoke:
        await store.revoke_key(conn, kid, at=now, reason=reason)
        await record_event(
            conn,
            at=now,
            actor=actor,
            action="key.revoked",
            target=f"key:{kid}",
            data={"reason": reason, "alg": alg},
        )
        # A compromised key: what it signed must stop even at gateways that still
        # cache the old JWKS, so its live tokens are invalidated in the status lists.
        assert revoke_tokens is not None
        await revoke_tokens(conn, kid, actor=actor, reason="key_revoked", now=now)
    for times in plan.reschedule:
        await store.reschedule_key(conn, times)
        await record_event(
            conn,
            at=now,
            actor=actor,
            action="key.rescheduled",
            target=f"key:{times.kid}",
            data=_schedule(times) | {"reason": reason},
        )
    for planned in plan.create:
        private_key = generate_private_key(alg)
        jwk = public_jwk(private_key, alg)
        assert jwk.kid is not None
        times = msgspec.structs.replace(planned, kid=jwk.kid)
        await store.insert_key(
            conn,
            kid=jwk.kid,
            alg=alg,
            public_jwk=msgspec.to_builtins(jwk),
            private_key_enc=encrypt_private_key(private_key, kid=jwk.kid, alg=alg, kek=kek),
            kek_id=kek.kek_id,
            times=times,
        )
        await record_event(
            conn,
            at=now,
            actor=actor,
            action="key.created",
            target=f"key:{jwk.kid}",
            data=_schedule(times) | {"alg": alg, "reason": reason},
        )
        created.append(jwk.kid)
    if not plan.empty:
        await store.notify_key_change(conn)
    return created


def _schedule(times: KeyTimes) -> dict[str, object]:
    return {
        "published_at": times.published_at.isoformat(),
        "activates_at": times.activates_at.isoformat(),
        "retires_at": times.retires_at.isoformat(),
        "expires_at": times.expires_at.isoformat(),
    }


async def ensure_keys(
    conn: Connection,
    *,
    algorithms: tuple[Algorithm, ...],
    now: datetime,
    policy: RotationPolicy,
    kek: KeyEncryptionKey,
) -> None:
    """The scheduled job: one current and one published next key per algorithm."""
    for alg in algorithms:
        # A first start needs two steps (a current key, then its successor); the plan is
        # empty once both exist, so this stops after at most three rounds.
        for _ in range(3):
            plan = await _plan_and_apply(
                conn,
                scheduled_plan,
                alg=alg,
                now=now,
                policy=policy,
                kek=kek,
                actor="system",
                reason="scheduled",
                revoke_tokens=None,  # the schedule never revokes
            )
            if plan.empty:
                break
    await announce_transitions(conn, now=now)


async def rotate(
    conn: Connection,
    *,
    alg: Algorithm,
    now: datetime,
    policy: RotationPolicy,
    kek: KeyEncryptionKey,
    actor: str,
    revoke_tokens: TokenRevoker,
    emergency: bool = False,
    reason: str = "",
) -> Plan:
    """``idsvc keys rotate [--emergency]``."""
    planner = emergency_plan if emergency else manual_rotation_plan
    plan = await _plan_and_apply(
        conn,
        planner,
        alg=alg,
        now=now,
        policy=policy,
        kek=kek,
        actor=actor,
        reason=reason or ("emergency rotation" if emergency else "manual rotation"),
        revoke_tokens=revoke_tokens,
    )
    # Leave a published next key behind, as the schedule would.
    await _plan_and_apply(
        conn,
        scheduled_plan,
        alg=alg,
        now=now,
        policy=policy,
        kek=kek,
        actor=actor,
        reason="follow-up to rotation",
        revoke_tokens=revoke_tokens,
    )
    return plan


async def announce_transitions(conn: Connection, *, now: datetime) -> None:
    """Audit the state changes that time alone has made since the last look."""
    for key in await store.select_keys(conn):
        state = key_state(key.times, now)
        if state != key.announced_state and key.revoked_at is None:
            await store.mark_announced(conn, key.kid, state)
            await record_event(
                conn,
                at=now,
                actor="system",
                action=f"key.{state}",
                target=f"key:{key.kid}",
                data={"alg": key.alg, "previous_state": key.announced_state},
            )
