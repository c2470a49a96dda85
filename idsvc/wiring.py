"""The services a running app holds, built once by ``create_app`` from the settings.

Handlers never see this object: each asks for the services it uses by name
(``idsvc.http.inject``), and :meth:`Services.by_name` is what those names resolve to. The
lifespan and the periodic jobs take what they need from it explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from idsvc.clock import Clock
from idsvc.compliance_jobs import ScreeningListImported
from idsvc.config.providers import ProviderSettings
from idsvc.crypto.key_encryption import KeyEncryptionKey
from idsvc.db.database import Database
from idsvc.four_eyes.service import rule_of
from idsvc.http.metrics import HttpMetrics, PoolCollector, ScreeningListCollector
from idsvc.http.ratelimit import RateLimiter
from idsvc.keys.service import KeyService
from idsvc.mail.senders import Mailer, SmtpMailer
from idsvc.oauth.client_auth import ClientRegistry
from idsvc.oauth.dpop_nonce import DPoPNonces
from idsvc.oauth.service import OAuthClients, TokenEndpoint
from idsvc.oidc.service import SignInService
from idsvc.policy.model import PolicySettings
from idsvc.settings import Settings
from idsvc.tokens.proof_replay import ProofReplay
from idsvc.tokens.status_service import StatusListService
from idsvc.tokens.status_slots import StatusAllocator
from idsvc.verify.dpop import DPoPVerifier

if TYPE_CHECKING:
    import httpx

__all__ = ["Services", "build_services"]

# (scope, per minute, which one) → the limiter, made once per scope and which.
Limiters = Callable[[str, int, str], RateLimiter]


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    settings: Settings
    clock: Clock
    # The pool once the lifespan opened it; fail closed before.
    database: Database
    keys: KeyService
    signin: SignInService
    # Checks DPoP proofs sent with token requests; its replay memory is this instance's,
    # proof_replay adds the store every instance shares.
    dpop: DPoPVerifier
    dpop_nonces: DPoPNonces
    proof_replay: ProofReplay
    status_lists: StatusListService
    status_slots: StatusAllocator
    oauth_clients: OAuthClients
    token_endpoint: TokenEndpoint
    # Invitation e-mail: SMTP when configured, the console in `idsvc dev`, else none.
    mailer: Mailer | None
    policies: dict[str, PolicySettings]
    # Sign-in attempts per client address, token requests per person (and device-code
    # approvals), counted across every instance.
    signin_limiter: RateLimiter
    token_limiter: RateLimiter
    registry: CollectorRegistry
    metrics: HttpMetrics
    # When the newest restricted-party list was imported (kept by a periodic job; /metrics).
    list_imported: ScreeningListImported = field(default_factory=ScreeningListImported)

    def by_name(self) -> dict[str, object]:
        """What handlers may ask for, by parameter name."""
        return {
            "settings": self.settings,
            "clock": self.clock,
            "database": self.database,
            "keys": self.keys,
            "signin": self.signin,
            # The sign-in choices a page offers (without the sign-in service itself).
            "providers": self.signin.providers,
            "dpop": self.dpop,
            "dpop_nonces": self.dpop_nonces,
            "proof_replay": self.proof_replay,
            "status_lists": self.status_lists,
            "status_slots": self.status_slots,
            "clients": self.oauth_clients.registry,
            "oauth_clients": self.oauth_clients,
            "token_endpoint": self.token_endpoint,
            "mailer": self.mailer,
            "policies": self.policies,
            # What every decision needs beside its policy (idsvc.evidence.ledger).
            "screening": self.settings.config.screening,
            # Whether a second operator must approve compliance decisions (idsvc.four_eyes).
            "four_eyes": rule_of(self.settings.config.compliance),
            "signin_limiter": self.signin_limiter,
            "token_limiter": self.token_limiter,
            "registry": self.registry,
        }


def build_services(
    settings: Settings,
    *,
    clock: Clock,
    kek: KeyEncryptionKey,
    http: httpx.AsyncClient,
    extra_providers: tuple[tuple[ProviderSettings, str], ...],
    mailer: Mailer | None,
) -> Services:
    config = settings.config
    database = Database()
    keys = KeyService(config.keys, kek, clock)

    def seconds() -> float:
        return clock().timestamp()

    limiter = _limiters(database, seconds)
    signin = _sign_in(settings, clock=clock, keys=keys, http=http, extra=extra_providers)
    dpop = DPoPVerifier(clock=seconds)
    # The nonce key is derived from a service secret that every instance shares.
    dpop_nonces = DPoPNonces(lambda: keys.pairwise_key, seconds)
    proof_replay = ProofReplay(dpop, database, clock)
    status_slots = StatusAllocator(config.status_lists.list_size)
    policies = {p.audience: p for p in config.policies}
    token_limiter = limiter("token", settings.service.token_rate_limit, "")
    registry = CollectorRegistry()
    list_imported = ScreeningListImported()
    registry.register(PoolCollector(database.maybe_pool))
    registry.register(ScreeningListCollector(lambda: list_imported.at, clock))
    return Services(
        settings=settings,
        clock=clock,
        database=database,
        keys=keys,
        signin=signin,
        dpop=dpop,
        dpop_nonces=dpop_nonces,
        proof_replay=proof_replay,
        status_lists=StatusListService(
            issuer=settings.service.issuer,
            ring=keys.ring,
            algorithm=config.keys.algorithms[0],
            ttl=config.status_lists.ttl,
            clock_skew=config.keys.clock_skew,
        ),
        status_slots=status_slots,
        oauth_clients=_oauth_clients(settings, database, clock, limiter),
        token_endpoint=TokenEndpoint(
            settings=settings,
            database=database,
            clock=clock,
            policies=policies,
            keys=keys,
            status_slots=status_slots,
            signin=signin,
            dpop=dpop,
            dpop_nonces=dpop_nonces,
            proof_replay=proof_replay,
            token_limiter=token_limiter,
        ),
        mailer=mailer or _smtp_mailer(settings),
        policies=policies,
        signin_limiter=limiter("signin", settings.service.signin_rate_limit, ""),
        token_limiter=token_limiter,
        registry=registry,
        metrics=HttpMetrics(registry),
        list_imported=list_imported,
    )


def _limiters(database: Database, seconds: Callable[[], float]) -> Limiters:
    """Rate limiters counting in the database, shared by every instance: one per scope,
    made once (a limiter leases its budget and must not be rebuilt per request)."""
    made: dict[tuple[str, str], RateLimiter] = {}

    def limiter(scope: str, per_minute: int, which: str = "") -> RateLimiter:
        if (scope, which) not in made:
            made[scope, which] = RateLimiter(
                scope=scope, per_minute=per_minute, pool=lambda: database.pool, clock=seconds
            )
        return made[scope, which]

    return limiter


def _oauth_clients(
    settings: Settings, database: Database, clock: Clock, limiter: Limiters
) -> OAuthClients:
    issuer = settings.service.issuer
    registry = ClientRegistry(
        settings.config.clients,
        cli_client=settings.config.oauth.cli_client,
        token_endpoint=f"{issuer}/oauth2/token",
        issuer=issuer,
        clock=lambda: clock().timestamp(),
    )
    return OAuthClients(
        registry,
        database=database,
        clock=clock,
        # Each client's own budget of token requests per minute (across instances).
        limiter=lambda client: limiter("client", client.rate_limit, client.id),
    )


def _sign_in(
    settings: Settings,
    *,
    clock: Clock,
    keys: KeyService,
    http: httpx.AsyncClient,
    extra: tuple[tuple[ProviderSettings, str], ...],
) -> SignInService:
    return SignInService(
        providers=settings.config.providers + tuple(p for p, _ in extra),
        client_secrets={
            **settings.secrets.provider_secrets,
            **{p.id: secret for p, secret in extra},
        },
        issuer=settings.service.issuer,
        clock=clock,
        http=http,
        session_lifetime=settings.service.session_absolute_lifetime,
        # A service secret every instance shares, loaded at start; the MACs it keys are
        # derived under their own label (accounts.person_match).
        person_key=lambda: keys.pairwise_key,
        screening_threshold=settings.config.screening.threshold,
    )


def _smtp_mailer(settings: Settings) -> Mailer | None:
    smtp = settings.config.smtp
    return SmtpMailer(smtp, settings.secrets.smtp_password) if smtp.host else None
