"""DPoP proofs presented to the issuer are single use across every instance.

The verifier (idsvc.verify.dpop) refuses a proof replayed to the same instance from its
memory; this refuses one replayed to another instance, through the shared replay store
(idsvc.replay). Called after the proof verified, so a proof that fails a check does not
burn its id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from idsvc.replay import first_use
from idsvc.runtime import Runtime
from idsvc.verify.dpop import proof_identity
from idsvc.verify.errors import DPoPReplayed

__all__ = ["remember_proof"]


async def remember_proof(runtime: Runtime, proof: str, *, jkt: str) -> None:
    """Raises DPoPReplayed when any instance has seen this proof before."""
    identity = proof_identity(proof)
    window = timedelta(seconds=runtime.dpop.iat_window)
    expires_at = datetime.fromtimestamp(identity.iat, UTC) + window
    fresh = await first_use(
        runtime.pool,
        scope="dpop",
        key=f"{jkt}|{identity.jti}",
        expires_at=expires_at,
        now=runtime.clock(),
    )
    if not fresh:
        raise DPoPReplayed("this proof was already used (at another instance)")
