"""Running the app under uvicorn, for production (``serve``) and locally (``dev``)."""

from __future__ import annotations

import socket
import sys
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

import msgspec
import uvicorn
from litestar.types import ControllerRouterHandler

from idsvc.app import create_app
from idsvc.config.providers import ProviderSettings
from idsvc.console.operator.outbox.api import outbox_route
from idsvc.crypto.key_encryption import generate_kek_file
from idsvc.db import Connection
from idsvc.devidp.demo_list import import_demo_list_unless_current
from idsvc.devidp.examples import EXAMPLE_POLICIES, seed_demo_organisation
from idsvc.devidp.wiring import demo_provider
from idsvc.http.logs import configure_logging
from idsvc.mail.senders import ConsoleMailer
from idsvc.policy.model import PolicySettings
from idsvc.settings import ConfigError, ScreeningSettings, ServiceSettings

if TYPE_CHECKING:
    from idsvc.app import Seed
    from idsvc.settings import Settings

__all__ = ["dev_settings", "seed_dev", "serve", "serve_dev"]


def serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    demo: bool = False,
) -> int:
    configure_logging(settings.service.log_level)
    extra_providers: tuple[tuple[ProviderSettings, str], ...] = ()
    extra_routes: tuple[ControllerRouterHandler, ...] = ()
    mailer: ConsoleMailer | None = None
    seed: Seed | None = None
    if demo:
        seed = partial(seed_dev, settings.config.screening, settings.config.policies)
        provider, route = demo_provider(settings.service.issuer)
        # Development sends no e-mail: it prints it and keeps an outbox page.
        mailer = ConsoleMailer()
        extra_providers, extra_routes = (provider,), (route, outbox_route(mailer))
    try:
        app = create_app(
            settings,
            extra_providers=extra_providers,
            extra_routes=extra_routes,
            mailer=mailer,
            seed=seed,
        )
    except ConfigError as exc:
        print(f"idsvc: configuration error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        app,
        host=host or settings.service.listen_host,
        port=port if port is not None else settings.service.listen_port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )
    return 0


async def seed_dev(
    screening: ScreeningSettings,
    policies: tuple[PolicySettings, ...],
    conn: Connection,
    now: datetime,
) -> None:
    """What a development service starts with: a current (demonstration) screening list,
    and with the example policies the example organisation."""
    await import_demo_list_unless_current(conn, now, screening)
    if policies == EXAMPLE_POLICIES:
        await seed_demo_organisation(conn, now)


def _port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def dev_settings(settings: Settings, *, port: int) -> Settings:
    """Local development: plain http on loopback, so cookies cannot be Secure. The issuer
    follows the port unless the file names one: the demo provider's redirect URIs derive
    from it, and a default issuer on another port fails every sign-in. With no policy
    configured, the example ones (idsvc.devidp.examples): a service that protects no
    audience issues nothing, and a newcomer learns nothing from that."""
    configured = settings.config.service.issuer
    service = msgspec.structs.replace(
        settings.config.service,
        issuer=configured if configured != ServiceSettings().issuer else f"http://127.0.0.1:{port}",
        cookie_secure=False,
        listen_host="127.0.0.1",
        listen_port=port,
    )
    secrets = settings.secrets
    if secrets.key_encryption_key is None:
        # A local key-encryption key, kept with the local data it protects.
        kek = generate_kek_file(settings.data_dir / "key-encryption-key")
        secrets = msgspec.structs.replace(secrets, key_encryption_key=kek)
    policies = settings.config.policies or EXAMPLE_POLICIES
    # The shipped country groups await compliance sign-off; development may use them (the
    # console says so on every operator page).
    policy = msgspec.structs.replace(settings.config.policy, allow_unreviewed_country_groups=True)
    # One local operator tries every compliance flow alone; the console says four eyes is
    # off on every operator page.
    compliance = msgspec.structs.replace(settings.config.compliance, four_eyes=False)
    return msgspec.structs.replace(
        settings,
        config=msgspec.structs.replace(
            settings.config,
            service=service,
            policies=policies,
            policy=policy,
            compliance=compliance,
        ),
        secrets=secrets,
    )


def serve_dev(settings: Settings, *, port: int) -> int:
    if _port_in_use(port):
        print(
            f"idsvc dev: port {port} is already in use; choose another with "
            f"`make dev PORT={port + 1}` (or `idsvc dev --port {port + 1}`)",
            file=sys.stderr,
        )
        return 1
    settings = dev_settings(settings, port=port)
    service = settings.config.service
    print(f"idsvc dev: data in {settings.data_dir}", flush=True)
    print(f"idsvc dev: open {service.issuer}/login in your browser", flush=True)
    print("idsvc dev: sign in with the demo identity provider (personas, not real people)")
    if settings.config.policies == EXAMPLE_POLICIES:
        print("idsvc dev: no policies configured, so these examples protect two audiences:")
        for policy in EXAMPLE_POLICIES:
            print(f"idsvc dev:   {policy.audience}  ({policy.id})")
        print("idsvc dev: README.md (Quick start) shows how to get a token for each")
    return serve(settings, demo=True)
