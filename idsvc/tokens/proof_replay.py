"""DPoP proofs presented to the issuer are single use across every instance.

The verifier (idsvc.verify.dpop) refuses a proof replayed to the same instance from its
memory; this refuses one replayed to another instance, through the shared replay store
(idsvc.replay). Called after the proof verified, so a proof that fails a check does not
burn its id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from idsvc.clock import Clock
from idsvc.db.database import Database
from idsvc.replay import SingleUse, first_use
from idsvc.verify.dpop import DPoPVerifier, proof_identity
from idsvc.verify.errors import DPoPReplayed

__all__ = ["ProofReplay"]


class ProofReplay:
    __slots__ = ("_clock", "_database", "_dpop")

    def __init__(self, dpop: DPoPVerifier, database: Database, clock: Clock) -> None:
        self._dpop = dpop
        self._database = database
        self._clock = clock

    def use(self, proof: str, *, jkt: str) -> SingleUse:
        """The proof as a value to remember until it could no longer be accepted anyway."""
        identity = proof_identity(proof)
        window = timedelta(seconds=self._dpop.iat_window)
        return SingleUse(
            scope="dpop",
            key=f"{jkt}|{identity.jti}",
            expires_at=datetime.fromtimestamp(identity.iat, UTC) + window,
        )

    async def remember(self, proof: str, *, jkt: str) -> None:
        """Raises DPoPReplayed when any instance has seen this proof before. (The
        refresh-token grant checks in its first statement instead: oauth.grants.find_grant.)"""
        await self.remember_use(self.use(proof, jkt=jkt))

    async def remember_use(self, use: SingleUse) -> None:
        fresh = await first_use(
            self._database.pool,
            scope=use.scope,
            key=use.key,
            expires_at=use.expires_at,
            now=self._clock(),
        )
        if not fresh:
            raise DPoPReplayed("this proof was already used (at another instance)")
