"""``create_app(settings)``: wiring only. Features own their routes and their SQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx
from litestar import Litestar, Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler, ExceptionHandlersMap

from idsvc import db
from idsvc.accounts.guards import provide_maybe_session, provide_session
from idsvc.approvals.api import routes as approval_routes
from idsvc.attestations.api import routes as attestation_routes
from idsvc.audit.personal import use_key_encryption_key
from idsvc.background import PeriodicJobs
from idsvc.clock import Clock, utc_now
from idsvc.config.providers import ProviderSettings
from idsvc.console.router import console_router
from idsvc.crypto.key_encryption import KeyEncryptionError, KeyEncryptionKey
from idsvc.db.locate import database_url
from idsvc.db.migrate import apply_migrations
from idsvc.health.api import routes as health_routes
from idsvc.holds.api import routes as hold_routes
from idsvc.http.inject import (
    Infrastructure,
    check_injected,
    install_infrastructure,
    install_services,
    provide_actor,
    provide_transaction,
)
from idsvc.http.middleware import RequestObserver, problem_refusal
from idsvc.http.openapi import openapi_config
from idsvc.http.pages import TEMPLATE_DIRECTORY
from idsvc.http.problems import exception_handlers
from idsvc.http.tracing import RequestTracer, instrument_database, tracer_provider_from
from idsvc.keys.api import routes as key_routes
from idsvc.mail.senders import Mailer
from idsvc.oauth.api import routes as oauth_routes
from idsvc.oauth.guards import provide_client, provide_form
from idsvc.oidc.api import routes as signin_routes
from idsvc.orgs.domains.api import routes as org_domain_routes
from idsvc.orgs.enrolment.api import routes as enrolment_routes
from idsvc.orgs.guards import provide_org_role
from idsvc.orgs.invitations.api import routes as invitation_routes
from idsvc.orgs.members.api import routes as member_routes
from idsvc.orgs.vetting.api import routes as vetting_routes
from idsvc.policy.country_groups import groups_file_in_use
from idsvc.policy_versions.service import record_policy_versions
from idsvc.scim.admin.api import routes as scim_admin_routes
from idsvc.scim.api import routes as scim_routes
from idsvc.scim.protocol import SCIM_PATH, scim_aware_refusal, scim_error
from idsvc.screening.api import routes as screening_routes
from idsvc.settings import ConfigError, Settings
from idsvc.tokens.api import routes as token_routes
from idsvc.upkeep import start_upkeep
from idsvc.wiring import Services, build_services

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

__all__ = ["create_app"]

# Example data for `idsvc dev`, written in the transaction that records policy versions.
Seed = Callable[[db.Connection, datetime], Awaitable[object]]

_log = logging.getLogger("idsvc")
_LISTENER_CHECK_INTERVAL = 2.0


def _feature(tag: str, routes: Sequence[ControllerRouterHandler]) -> Router:
    """One feature's routes under its OpenAPI tag (docs/routes.md lists them by feature)."""
    return Router(path="/", route_handlers=list(routes), tags=[tag])


# Every feature's routes, each under the one tag that groups it in the OpenAPI document and
# in docs/routes.md. The console's pages are left out of the document.
FEATURES = (
    _feature("Health and metrics", health_routes),
    _feature("Signing keys and JWKS", key_routes),
    _feature("Eligibility tokens and status lists", token_routes),
    _feature("Sign-in and the person's status", signin_routes),
    _feature("OAuth 2.0 token endpoint", oauth_routes),
    _feature("Operators: attestations and determinations", attestation_routes),
    _feature("Operators: legal holds", hold_routes),
    _feature("Operators: decisions awaiting a second operator", approval_routes),
    _feature("Operators: screening people", screening_routes),
    _feature("Organisations: requests and vetting", vetting_routes),
    _feature("Organisations: domains and auto-join", org_domain_routes),
    _feature("Organisations: members, reports and reviews", member_routes),
    _feature("Organisations: CSV enrolment", enrolment_routes),
    _feature("Organisations: invitations", invitation_routes),
    _feature("Organisations: SCIM tokens and groups", scim_admin_routes),
    _feature("SCIM 2.0", scim_routes),
)


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
    kek = _checked_start_settings(settings, clock())
    # Personal values in audit events are sealed under per-person keys wrapped by it.
    use_key_encryption_key(kek)
    tracing = tracer_provider or tracer_provider_from(settings.config.tracing)
    http = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
    services = build_services(
        settings, clock=clock, kek=kek, http=http, extra_providers=extra_providers, mailer=mailer
    )
    app = Litestar(
        route_handlers=[*FEATURES, console_router, *extra_routes],
        dependencies=_dependencies(services),
        lifespan=[lambda app: _lifespan(services, http, seed, tracing)],
        template_config=TemplateConfig(directory=TEMPLATE_DIRECTORY, engine=JinjaTemplateEngine),
        exception_handlers=_scim_aware(exception_handlers),
        request_max_body_size=settings.service.max_request_body,
        openapi_config=openapi_config(),
        # Logging is ours (idsvc.http.logs: JSON lines); Litestar's default configuration
        # would replace it with plain-text lines at start-up.
        logging_config=None,
        debug=False,
    )
    check_injected(
        (h for route in app.routes for h in getattr(route, "route_handlers", ())),
        services.by_name(),
    )
    install_infrastructure(
        app.state, Infrastructure(database=services.database, settings=settings, clock=clock)
    )
    install_services(app.state, services.by_name())
    # Litestar's app-level middleware runs only for matched routes; wrapping the ASGI
    # handler instead puts request ids, access logs and metrics on 404s and 405s too.
    app.asgi_handler = RequestObserver(
        app.asgi_handler,
        metrics=services.metrics,
        always=settings.service.always_headers(),
        tracer=RequestTracer(tracing),
        refusal=scim_aware_refusal(problem_refusal),
    )
    return app


def _checked_start_settings(settings: Settings, now: datetime) -> KeyEncryptionKey:
    """The key-encryption key; raises ConfigError for what must never start."""
    if settings.secrets.key_encryption_key is None:
        # Fail closed: without the KEK private keys can be neither stored nor used.
        raise ConfigError(
            "IDSVC_KEY_ENCRYPTION_KEY (or IDSVC_KEY_ENCRYPTION_KEY_FILE) is required: "
            "32 random bytes, base64url; `idsvc dev` creates one in its data folder"
        )
    problem = groups_file_in_use().sign_off_problem(
        now, four_eyes=settings.config.compliance.four_eyes
    )
    if problem and not settings.config.policy.allow_unreviewed_country_groups:
        # Decisions would rest on export-control data nobody in compliance signed off, or
        # on data changed since. (Codes that are no country were refused when it loaded.)
        raise ConfigError(
            f"the country groups in use are not signed off: {problem}; review them and run "
            "`idsvc policy sign-off-country-groups`, point [policy] country_groups_file at "
            "a signed-off copy, or set [policy] allow_unreviewed_country_groups = true "
            "(development only)"
        )
    try:
        kek = KeyEncryptionKey.from_text(settings.secrets.key_encryption_key)
    except KeyEncryptionError as exc:
        raise ConfigError(str(exc)) from None
    return kek


def _dependencies(services: Services) -> dict[str, Provide]:
    """What handlers ask for by parameter name (``idsvc.http.inject``): the request's
    transaction, its moment, who is acting (set by the route's guards), and each service."""

    def provide_now() -> datetime:
        return services.clock()

    return {
        # The request's transaction: commits on success and on an audited refusal.
        "conn": Provide(provide_transaction(services.database)),
        "now": Provide(provide_now, sync_to_thread=False),
        "actor": Provide(provide_actor, sync_to_thread=False),
        "session": Provide(provide_session, sync_to_thread=False),
        "maybe_session": Provide(provide_maybe_session),
        "org_role": Provide(provide_org_role, sync_to_thread=False),
        "client": Provide(provide_client, sync_to_thread=False),
        "form": Provide(provide_form, sync_to_thread=False),
        **{
            name: Provide(_constant(value), use_cache=True)
            for name, value in services.by_name().items()
        },
    }


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


@asynccontextmanager
async def _lifespan(
    services: Services,
    http: httpx.AsyncClient,
    seed: Seed | None,
    tracing: TracerProvider | None,
) -> AsyncIterator[None]:
    settings, clock = services.settings, services.clock
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
            await record_policy_versions(conn, settings.config.policies, now=clock())
            if seed is not None:
                await seed(conn, clock())
        services.database.attach(pool)
        stack.callback(services.database.attach, None)
        await services.status_slots.ensure_open_list(pool, clock())

        jobs = PeriodicJobs()
        stack.push_async_callback(jobs.stop)
        start_upkeep(
            jobs,
            settings=settings,
            clock=clock,
            pool=pool,
            http=http,
            status_lists=services.status_lists,
            mailer=services.mailer,
            list_imported=services.list_imported,
        )
        await services.keys.start(pool, jobs)
        # Listeners have connections of their own (idsvc.notifications). One whose
        # connection died (a PostgreSQL restart, a failover) listens again within one
        # interval, and its owner catches up on what it missed.
        connect = partial(db.connect, dsn)
        for name, subscription in (
            ("keys-listener", services.keys.subscription),
            ("status-list-listener", services.status_lists.subscription),
        ):
            await subscription.start(connect)
            stack.push_async_callback(subscription.stop)
            jobs.start(name, _LISTENER_CHECK_INTERVAL, partial(subscription.check, connect))

        yield
