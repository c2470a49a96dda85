"""DPoP proofs presented to the issuer are single use across every instance.

The verifier (idsvc.verify.dpop) refuses a proof replayed to the same instance from its
memory; this refuses one replayed to another instance, through the shared replay store
(idsvc.replay). Called after the proof verified, so a proof that fails a check does not
burn its id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from idsvc.replay import SingleUse, first_use
from idsvc.runtime import Runtime
from idsvc.verify.dpop import proof_identity
from idsvc.verify.errors import DPoPReplayed

__all__ = ["proof_use", "remember_proof"]


def proof_use(runtime: Runtime, proof: str, *, jkt: str) -> SingleUse:
    """The proof as a value to remember until it could no longer be accepted anyway."""
    identity = proof_identity(proof)
    window = timedelta(seconds=runtime.dpop.iat_window)
    return SingleUse(
        scope="dpop",
        key=f"{jkt}|{identity.jti}",
        expires_at=datetime.fromtimestamp(identity.iat, UTC) + window,
    )


async def remember_proof(runtime: Runtime, proof: str, *, jkt: str) -> None:
    """Raises DPoPReplayed when any instance has seen this proof before. (The refresh-token
    grant checks in its first statement instead: oauth.grants.find_grant.)"""
    use = proof_use(runtime, proof, jkt=jkt)
    fresh = await first_use(
        runtime.pool, scope=use.scope, key=use.key, expires_at=use.expires_at, now=runtime.clock()
    )
    if not fresh:
        raise DPoPReplayed("this proof was already used (at another instance)")
