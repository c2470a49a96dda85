"""The in-memory key ring each instance signs with and publishes from.

It holds every live key (decrypted private keys included, in memory only) and answers
"which key signs now" and "what is published now" from the keys' timestamps, so scheduled
transitions need no reload. It reloads on NOTIFY and periodically, as a fallback.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import msgspec

from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.db import Connection
from idsvc.keys import store
from idsvc.keys.errors import NoSigningKey
from idsvc.keys.material import Algorithm, PrivateKey, decrypt_private_key
from idsvc.keys.schedule import KeyTimes, key_state

__all__ = ["KeyRing", "SigningKey"]

_encoder = msgspec.json.Encoder(order="sorted")


class SigningKey(msgspec.Struct, frozen=True, kw_only=True):
    kid: str
    alg: Algorithm
    private_key: PrivateKey
    public_jwk: dict[str, object]
    times: KeyTimes

    def __repr__(self) -> str:  # never print key material
        return f"SigningKey(kid={self.kid!r}, alg={self.alg!r})"


class KeyRing:
    def __init__(self, kek: KeyEncryptionKey) -> None:
        self._kek = kek
        self._keys: dict[str, SigningKey] = {}

    async def reload(self, conn: Connection, now: datetime) -> None:
        keys: dict[str, SigningKey] = {}
        for row in await store.select_live_keys(conn, now):
            known = self._keys.get(row.kid)
            # Keep already-decrypted keys; only their schedule may have changed.
            private_key = (
                known.private_key
                if known is not None
                else decrypt_private_key(
                    row.private_key_enc, kid=row.kid, alg=row.alg, kek=self._kek
                )
            )
            keys[row.kid] = SigningKey(
                kid=row.kid,
                alg=row.alg,
                private_key=private_key,
                public_jwk=row.public_jwk,
                times=row.times,
            )
        self._keys = keys

    def signing_key(self, alg: Algorithm, now: datetime) -> SigningKey:
        current = [
            k for k in self._keys.values() if k.alg == alg and key_state(k.times, now) == "current"
        ]
        if not current:
            # Fail closed: no current key means no token, never a token from a wrong key.
            raise NoSigningKey(f"no current {alg} signing key")
        return max(current, key=lambda k: k.times.activates_at)

    def published(self, now: datetime) -> list[SigningKey]:
        return sorted(
            (k for k in self._keys.values() if key_state(k.times, now) != "retired"),
            key=lambda k: (k.alg, k.times.activates_at),
        )

    def jwks(self, now: datetime) -> tuple[bytes, str]:
        """The JWKS document and its strong ETag."""
        body = _encoder.encode({"keys": [k.public_jwk for k in self.published(now)]})
        return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
