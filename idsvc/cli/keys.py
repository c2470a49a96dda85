"""``idsvc keys list`` and ``idsvc keys rotate [--emergency]``."""

from __future__ import annotations

import getpass
import sys

from idsvc.cli.connection import connected
from idsvc.clock import utc_now
from idsvc.crypto.key_encryption import KeyEncryptionError, KeyEncryptionKey
from idsvc.keys import store
from idsvc.keys.material import Algorithm
from idsvc.keys.rotation import rotate
from idsvc.keys.schedule import key_state
from idsvc.keys.service import rotation_policy
from idsvc.settings import Settings
from idsvc.tokens.revocation import revoke_key_tokens

__all__ = ["keys_list", "keys_rotate"]


def _kek(settings: Settings) -> KeyEncryptionKey | None:
    if settings.secrets.key_encryption_key is None:
        print("idsvc keys: IDSVC_KEY_ENCRYPTION_KEY is not set", file=sys.stderr)
        return None
    try:
        return KeyEncryptionKey.from_text(settings.secrets.key_encryption_key)
    except KeyEncryptionError as exc:
        print(f"idsvc keys: {exc}", file=sys.stderr)
        return None


async def keys_list(settings: Settings) -> int:
    now = utc_now()
    async with connected(settings) as conn:
        keys = await store.select_keys(conn)
    print(f"{'kid':<44} {'alg':<6} {'state':<9} {'activates':<20} {'retires':<20} {'expires':<20}")
    for key in keys:
        print(
            f"{key.kid:<44} {key.alg:<6} {key_state(key.times, now):<9} "
            f"{key.activates_at:%Y-%m-%d %H:%M:%S}  {key.retires_at:%Y-%m-%d %H:%M:%S}  "
            f"{key.expires_at:%Y-%m-%d %H:%M:%S}"
            + (f"  revoked: {key.revoked_reason}" if key.revoked_at else "")
        )
    return 0


async def keys_rotate(settings: Settings, *, alg: Algorithm, emergency: bool, reason: str) -> int:
    kek = _kek(settings)
    if kek is None:
        return 2
    async with connected(settings) as conn, conn.transaction():
        plan = await rotate(
            conn,
            alg=alg,
            now=utc_now(),
            policy=rotation_policy(settings.config.keys),
            kek=kek,
            actor=f"cli:{getpass.getuser()}",
            revoke_tokens=revoke_key_tokens,
            emergency=emergency,
            reason=reason,
        )
    for kid in plan.revoke:
        print(f"revoked {kid}: dropped from the JWKS now")
    for times in plan.reschedule:
        print(f"{times.kid} signs from {times.activates_at:%Y-%m-%d %H:%M:%S %Z}")
    if not plan.revoke and not plan.reschedule and plan.create:
        print("created a next key; it signs once it has been published long enough")
    return 0
