"""What a running app holds: settings, the clock, the pool (once the lifespan opened it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from litestar.di import NamedDependency
from litestar.params import SkipValidation
from prometheus_client import CollectorRegistry

from idsvc.clock import Clock
from idsvc.config.oauth import ClientSettings
from idsvc.db import Pool
from idsvc.db.database import Database
from idsvc.http.metrics import HttpMetrics
from idsvc.http.ratelimit import RateLimiter
from idsvc.policy.model import PolicySettings
from idsvc.settings import Settings

if TYPE_CHECKING:
    # Only named here: app.py builds the services (runtime.py imports no feature, so
    # features may depend on it without an import cycle).
    from idsvc.keys.service import KeyService
    from idsvc.mail.senders import Mailer
    from idsvc.oauth.client_auth import ClientRegistry
    from idsvc.oauth.dpop_nonce import DPoPNonces
    from idsvc.oidc.service import SignInService
    from idsvc.tokens.status_service import StatusListService
    from idsvc.tokens.status_slots import StatusAllocator
    from idsvc.verify.dpop import DPoPVerifier

_log = logging.getLogger("idsvc.refusals")

__all__ = ["Runtime", "RuntimeDependency"]


@dataclass(slots=True)
class Runtime:
    settings: Settings
    clock: Clock
    keys: KeyService
    signin: SignInService
    # Checks DPoP proofs sent with token requests. Its replay memory is this instance's;
    # tokens.proof_replay adds the store every instance shares.
    dpop: DPoPVerifier
    dpop_nonces: DPoPNonces
    status_lists: StatusListService
    status_slots: StatusAllocator
    clients: ClientRegistry
    # Invitation e-mail: SMTP when configured, the console in `idsvc dev`, else none.
    mailer: Mailer | None = None
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    metrics: HttpMetrics = field(init=False)
    policies: dict[str, PolicySettings] = field(init=False)
    # When the newest restricted-party list was imported (kept by a periodic job; /metrics).
    screening_list_imported_at: datetime | None = None
    # Sign-in attempts per client address, token requests per person (and device-code
    # approvals), counted across every instance.
    signin_limiter: RateLimiter = field(init=False)
    token_limiter: RateLimiter = field(init=False)
    _client_limiters: dict[str, RateLimiter] = field(default_factory=dict)
    database: Database = field(default_factory=Database)

    def __post_init__(self) -> None:
        self.metrics = HttpMetrics(self.registry)
        self.policies = {p.audience: p for p in self.settings.config.policies}
        self.signin_limiter = self._limiter("signin", self.settings.service.signin_rate_limit)
        self.token_limiter = self._limiter("token", self.settings.service.token_rate_limit)

    def _seconds(self) -> float:
        return self.clock().timestamp()

    def _limiter(self, scope: str, per_minute: int) -> RateLimiter:
        return RateLimiter(
            scope=scope, per_minute=per_minute, pool=lambda: self.pool, clock=self._seconds
        )

    def client_limiter(self, client: ClientSettings) -> RateLimiter:
        """Each client's own budget of token requests per minute (across instances)."""
        limiter = self._client_limiters.get(client.id)
        if limiter is None:
            limiter = self._limiter("client", client.rate_limit)
            self._client_limiters[client.id] = limiter
        return limiter

    def log_refusal(self, message: str, *, reason: str) -> None:
        """Why something was refused, for operators; callers get one generic answer."""
        _log.info(message, extra={"reason": reason})

    @property
    def pool(self) -> Pool:
        return self.database.pool

    def maybe_pool(self) -> Pool | None:
        return self.database.maybe_pool()

    def attach_pool(self, pool: Pool | None) -> None:
        self.database.attach(pool)


# How handlers ask for the runtime: named explicitly (Litestar 3 drops inferred names), and
# not validated: it is the app's own object, and its annotations name services this module
# imports only for type checking.
RuntimeDependency = NamedDependency[SkipValidation[Runtime]]
