"""What a running app holds: settings, the clock, the pool (once the lifespan opened it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar.di import NamedDependency
from prometheus_client import CollectorRegistry

from idsvc.clock import Clock
from idsvc.db import Pool
from idsvc.errors import Unavailable
from idsvc.http.metrics import HttpMetrics
from idsvc.http.ratelimit import RateLimiter
from idsvc.keys.service import KeyService
from idsvc.oidc.signin import SignInService
from idsvc.policy.model import PolicySettings
from idsvc.settings import Settings
from idsvc.verify.dpop import DPoPVerifier

__all__ = ["Runtime", "RuntimeDependency"]


@dataclass(slots=True)
class Runtime:
    settings: Settings
    clock: Clock
    keys: KeyService
    signin: SignInService
    signin_limiter: RateLimiter
    token_limiter: RateLimiter
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    metrics: HttpMetrics = field(init=False)
    policies: dict[str, PolicySettings] = field(init=False)
    # Checks DPoP proofs sent with token requests; its replay cache is per instance.
    dpop: DPoPVerifier = field(init=False)
    _pool: Pool | None = None

    def __post_init__(self) -> None:
        self.metrics = HttpMetrics(self.registry)
        self.policies = {p.audience: p for p in self.settings.config.policies}
        self.dpop = DPoPVerifier(clock=lambda: self.clock().timestamp())

    @property
    def pool(self) -> Pool:
        # Fail closed: without a database there is no decision and no token.
        if self._pool is None:
            raise Unavailable("the database is not available")
        return self._pool

    def maybe_pool(self) -> Pool | None:
        return self._pool

    def attach_pool(self, pool: Pool | None) -> None:
        self._pool = pool


# How handlers ask for the runtime: named explicitly (Litestar 3 drops inferred names).
RuntimeDependency = NamedDependency[Runtime]
