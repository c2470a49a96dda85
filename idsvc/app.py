"""``create_app(settings)``: wiring only. Features own their routes and their SQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx
from litestar import Litestar, Request, Response
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler, ExceptionHandlersMap

from idsvc import db
from idsvc.accounts.guards import provide_maybe_session, provide_session
from idsvc.attestations.api import routes as attestation_routes
from idsvc.audit.personal import use_key_encryption_key
from idsvc.background import PeriodicJobs
from idsvc.clock import Clock, utc_now
from idsvc.compliance_jobs import ScreeningListImported
from idsvc.config.providers import ProviderSettings
from idsvc.console.router import console_router
from idsvc.crypto.key_encryption import KeyEncryptionError, KeyEncryptionKey
from idsvc.db.locate import database_url
from idsvc.db.migrate import apply_migrations
from idsvc.health.api import routes as health_routes
from idsvc.http.inject import (
    Infrastructure,
    install_infrastructure,
    install_services,
    provide_actor,
    provide_transaction,
)
from idsvc.http.metrics import PoolCollector, ScreeningListCollector
from idsvc.http.middleware import RequestObserver, problem_refusal
from idsvc.http.openapi import openapi_config
from idsvc.http.pages import TEMPLATE_DIRECTORY
from idsvc.http.problems import exception_handlers
from idsvc.http.tracing import RequestTracer, instrument_database, tracer_provider_from
from idsvc.keys.api import routes as key_routes
from idsvc.keys.service import KeyService
from idsvc.mail.senders import Mailer, SmtpMailer
from idsvc.oauth.api import routes as oauth_routes
from idsvc.oauth.client_auth import ClientRegistry
from idsvc.oauth.dpop_nonce import DPoPNonces
from idsvc.oauth.guards import provide_client, provide_form
from idsvc.oauth.service import OAuthClients, TokenService
from idsvc.oidc.api import routes as signin_routes
from idsvc.oidc.service import SignInService
from idsvc.orgs.domains.api import routes as org_domain_routes
from idsvc.orgs.enrolment.api import routes as enrolment_routes
from idsvc.orgs.guards import provide_org_role
from idsvc.orgs.invitations.api import routes as invitation_routes
from idsvc.orgs.members.api import routes as member_routes
from idsvc.orgs.vetting.api import routes as vetting_routes
from idsvc.policy.country_groups import country_groups
from idsvc.policy_versions.service import record_policy_versions
from idsvc.runtime import Runtime
from idsvc.scim.admin.api import routes as scim_admin_routes
from idsvc.scim.api import routes as scim_routes
from idsvc.scim.protocol import SCIM_PATH, scim_aware_refusal, scim_error
from idsvc.screening.api import routes as screening_routes
from idsvc.settings import ConfigError, Settings
from idsvc.tokens.api import routes as token_routes
from idsvc.tokens.proof_replay import ProofReplay
from idsvc.tokens.status_service import StatusListService
from idsvc.tokens.status_slots import StatusAllocator
from idsvc.upkeep import start_upkeep
from idsvc.verify.dpop import DPoPVerifier

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

__all__ = ["create_app"]

# Example data for `idsvc dev`, written in the transaction that records policy versions.
Seed = Callable[[db.Connection, datetime], Awaitable[object]]

_log = logging.getLogger("idsvc")
_LISTENER_CHECK_INTERVAL = 2.0


def create_app(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    extra_providers: tuple[tuple[ProviderSettings, str], ...] = (),
    extra_routes: tuple[ControllerRouterHandler, ...] = (),
    mailer: Mailer | None = None,
    seed: Seed | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Litestar:
    """Raises ConfigError when a required secret is missing, before anything starts.
    ``seed`` (``idsvc dev`` only) adds example data once the database is migrated.
    ``tracer_provider`` replaces the one ``[tracing]`` configures (tests)."""
    if settings.secrets.key_encryption_key is None:
        # Fail closed: without the KEK private keys can be neither stored nor used.
        raise ConfigError(
            "IDSVC_KEY_ENCRYPTION_KEY (or IDSVC_KEY_ENCRYPTION_KEY_FILE) is required: "
            "32 random bytes, base64url; `idsvc dev` creates one in its data folder"
        )
    groups = country_groups()
    if not groups.reviewed and not settings.config.policy.allow_unreviewed_country_groups:
        # Decisions would rest on export-control data nobody in compliance signed off.
        raise ConfigError(
            f"the country groups in use say reviewed_by = {groups.reviewed_by!r}: point "
            "[policy] country_groups_file at a reviewed copy, or set [policy] "
            "allow_unreviewed_country_groups = true (development only)"
        )
    try:
        kek = KeyEncryptionKey.from_text(settings.secrets.key_encryption_key)
    except KeyEncryptionError as exc:
        raise ConfigError(str(exc)) from None
    # Personal values in audit events are sealed under per-person keys wrapped by it.
    use_key_encryption_key(kek)
    tracing = tracer_provider or tracer_provider_from(settings.config.tracing)
    http = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
    runtime = _runtime(
        settings, clock=clock, kek=kek, http=http, extra_providers=extra_providers, mailer=mailer
    )
    runtime.registry.register(PoolCollector(runtime.maybe_pool))
    list_imported = ScreeningListImported()
    runtime.registry.register(ScreeningListCollector(lambda: list_imported.at, clock))

    services = _services(runtime)

    async def provide_runtime() -> Runtime:
        return runtime

    def provide_now() -> datetime:
        return clock()

    app = Litestar(
        route_handlers=[
            *health_routes,
            *key_routes,
            *token_routes,
            *signin_routes,
            *attestation_routes,
            *screening_routes,
            *vetting_routes,
            *org_domain_routes,
            *member_routes,
            *enrolment_routes,
            *invitation_routes,
            *scim_admin_routes,
            *scim_routes,
            console_router,
            *oauth_routes,
            *extra_routes,
        ],
        dependencies={
            "runtime": Provide(provide_runtime),
            # The request's transaction: commits on success and on an audited refusal.
            "conn": Provide(provide_transaction(runtime.database)),
            "now": Provide(provide_now, sync_to_thread=False),
            "actor": Provide(provide_actor, sync_to_thread=False),
            "session": Provide(provide_session, sync_to_thread=False),
            "maybe_session": Provide(provide_maybe_session),
            "org_role": Provide(provide_org_role, sync_to_thread=False),
            "client": Provide(provide_client, sync_to_thread=False),
            "form": Provide(provide_form, sync_to_thread=False),
            **{name: Provide(_constant(value), use_cache=True) for name, value in services.items()},
        },
        lifespan=[lambda app: _lifespan(runtime, http, seed, tracing, list_imported)],
        template_config=TemplateConfig(directory=TEMPLATE_DIRECTORY, engine=JinjaTemplateEngine),
        exception_handlers=_scim_aware(exception_handlers),
        request_max_body_size=settings.service.max_request_body,
        openapi_config=openapi_config(),
        # Logging is ours (idsvc.http.logs: JSON lines); Litestar's default configuration
        # would replace it with plain-text lines at start-up.
        logging_config=None,
        debug=False,
    )
    install_infrastructure(
        app.state, Infrastructure(database=runtime.database, settings=settings, clock=clock)
    )
    install_services(app.state, services)
    # Litestar's app-level middleware runs only for matched routes; wrapping the ASGI
    # handler instead puts request ids, access logs and metrics on 404s and 405s too.
    app.asgi_handler = RequestObserver(
        app.asgi_handler,
        metrics=runtime.metrics,
        always=settings.service.always_headers(),
        tracer=RequestTracer(tracing),
        refusal=scim_aware_refusal(problem_refusal),
    )
    return app


def _runtime(
    settings: Settings,
    *,
    clock: Clock,
    kek: KeyEncryptionKey,
    http: httpx.AsyncClient,
    extra_providers: tuple[tuple[ProviderSettings, str], ...],
    mailer: Mailer | None,
) -> Runtime:
    """The services a running app holds, built once."""
    keys = KeyService(settings.config.keys, kek, clock)
    issuer = settings.service.issuer

    def seconds() -> float:
        return clock().timestamp()

    return Runtime(
        settings=settings,
        clock=clock,
        keys=keys,
        signin=SignInService(
            providers=settings.config.providers + tuple(p for p, _ in extra_providers),
            client_secrets={
                **settings.secrets.provider_secrets,
                **{p.id: secret for p, secret in extra_providers},
            },
            issuer=issuer,
            clock=clock,
            http=http,
            session_lifetime=settings.service.session_absolute_lifetime,
            # A service secret every instance shares, loaded at start; the MACs it keys
            # are derived under their own label (accounts.person_match).
            person_key=lambda: keys.pairwise_key,
            screening_threshold=settings.config.screening.threshold,
        ),
        dpop=DPoPVerifier(clock=seconds),
        # The nonce key is derived from a service secret that every instance shares.
        dpop_nonces=DPoPNonces(lambda: keys.pairwise_key, seconds),
        status_lists=StatusListService(
            issuer=issuer,
            ring=keys.ring,
            algorithm=settings.config.keys.algorithms[0],
            ttl=settings.config.status_lists.ttl,
            clock_skew=settings.config.keys.clock_skew,
        ),
        status_slots=StatusAllocator(settings.config.status_lists.list_size),
        clients=ClientRegistry(
            settings.config.clients,
            cli_client=settings.config.oauth.cli_client,
            token_endpoint=f"{issuer}/oauth2/token",
            issuer=issuer,
            clock=seconds,
        ),
        mailer=mailer or _smtp_mailer(settings),
    )


def _services(runtime: Runtime) -> dict[str, object]:
    """Each service under the name handlers ask for it by (``idsvc.http.inject``)."""
    proof_replay = ProofReplay(runtime.dpop, runtime.database, runtime.clock)
    services: dict[str, object] = {
        "database": runtime.database,
        "settings": runtime.settings,
        "clock": runtime.clock,
        "keys": runtime.keys,
        "signin": runtime.signin,
        # The sign-in choices a page offers (without the sign-in service itself).
        "providers": runtime.signin.providers,
        "dpop": runtime.dpop,
        "dpop_nonces": runtime.dpop_nonces,
        "status_lists": runtime.status_lists,
        "status_slots": runtime.status_slots,
        "clients": runtime.clients,
        "mailer": runtime.mailer,
        "policies": runtime.policies,
        "token_limiter": runtime.token_limiter,
        "signin_limiter": runtime.signin_limiter,
        "registry": runtime.registry,
        "proof_replay": proof_replay,
        "oauth_clients": OAuthClients(
            runtime.clients,
            database=runtime.database,
            clock=runtime.clock,
            limiter=runtime.client_limiter,
        ),
        "tokens": TokenService(
            settings=runtime.settings,
            database=runtime.database,
            clock=runtime.clock,
            policies=runtime.policies,
            keys=runtime.keys,
            status_slots=runtime.status_slots,
            signin=runtime.signin,
            dpop=runtime.dpop,
            dpop_nonces=runtime.dpop_nonces,
            proof_replay=proof_replay,
            token_limiter=runtime.token_limiter,
        ),
    }
    return services


def _constant(value: object) -> Callable[[], Awaitable[object]]:
    async def provide() -> object:
        return value

    return provide


def _scim_aware(handlers: ExceptionHandlersMap) -> ExceptionHandlersMap:
    """Unknown paths and methods under /scim/v2 never reach the SCIM router's own handlers;
    answer them in the SCIM error schema too (scim2-tester's access_invalid_* checks)."""

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        path = request.url.path
        if (path == SCIM_PATH or path.startswith(f"{SCIM_PATH}/")) and isinstance(
            exc, HTTPException
        ):
            return scim_error(request, exc)
        return fallback(request, exc)

    fallback = handlers[HTTPException]
    return {**handlers, HTTPException: handle}


def _smtp_mailer(settings: Settings) -> Mailer | None:
    smtp = settings.config.smtp
    return SmtpMailer(smtp, settings.secrets.smtp_password) if smtp.host else None


@asynccontextmanager
async def _lifespan(
    runtime: Runtime,
    http: httpx.AsyncClient,
    seed: Seed | None,
    tracing: TracerProvider | None,
    list_imported: ScreeningListImported,
) -> AsyncIterator[None]:
    settings = runtime.settings
    async with AsyncExitStack() as stack:
        stack.push_async_callback(http.aclose)
        stack.enter_context(instrument_database(tracing))
        dsn = await stack.enter_async_context(database_url(settings))
        if settings.service.migrate_on_start:
            conn = await db.connect(dsn)
            try:
                applied = await apply_migrations(conn, settings.migrations_dir)
            finally:
                await conn.close()
            if applied:
                _log.info("migrations applied", extra={"versions": [m.version for m in applied]})
        pool = await db.create_pool(
            dsn,
            min_size=settings.config.database.pool_min_size,
            max_size=settings.config.database.pool_max_size,
            command_timeout=settings.config.database.command_timeout,
        )
        stack.push_async_callback(pool.close)
        async with pool.acquire() as conn, conn.transaction():
            await record_policy_versions(conn, settings.config.policies, now=runtime.clock())
            if seed is not None:
                await seed(conn, runtime.clock())
        runtime.attach_pool(pool)
        stack.callback(runtime.attach_pool, None)
        await runtime.status_slots.ensure_open_list(pool, runtime.clock())

        jobs = PeriodicJobs()
        stack.push_async_callback(jobs.stop)
        start_upkeep(
            jobs,
            settings=settings,
            clock=runtime.clock,
            pool=pool,
            http=http,
            status_lists=runtime.status_lists,
            mailer=runtime.mailer,
            list_imported=list_imported,
        )
        await runtime.keys.start(pool, jobs)
        # Listeners have connections of their own (idsvc.notifications). One whose
        # connection died (a PostgreSQL restart, a failover) listens again within one
        # interval, and its owner catches up on what it missed.
        connect = partial(db.connect, dsn)
        for name, subscription in (
            ("keys-listener", runtime.keys.subscription),
            ("status-list-listener", runtime.status_lists.subscription),
        ):
            await subscription.start(connect)
            stack.push_async_callback(subscription.stop)
            jobs.start(name, _LISTENER_CHECK_INTERVAL, partial(subscription.check, connect))

        yield
