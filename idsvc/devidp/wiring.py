"""Wiring the demo provider into ``idsvc dev``: mounted at ``/demo-idp`` on the service's
own port, registered as the upstream provider ``demo`` with a fresh client secret.

It speaks real OIDC over HTTP, so the sign-in path is exactly the production one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from litestar.types import ControllerRouterHandler

from idsvc.config.providers import ProviderSettings
from idsvc.devidp.app import demo_idp_mount
from idsvc.devidp.settings import DemoClient, DemoIdPSettings

__all__ = ["DEMO_PROVIDER_ID", "demo_provider"]

DEMO_PROVIDER_ID = "demo"
_CLIENT_ID = "idsvc-dev"


def demo_provider(
    issuer: str, *, clock: Callable[[], float] | None = None
) -> tuple[tuple[ProviderSettings, str], ControllerRouterHandler]:
    """The provider entry (with its secret) and the route that serves the demo provider."""
    base = issuer.rstrip("/")
    demo_issuer = f"{base}/demo-idp"
    secret = secrets.token_urlsafe(32)
    client = DemoClient(
        client_id=_CLIENT_ID,
        client_secret=secret,
        redirect_uris=(f"{base}/oidc/callback/{DEMO_PROVIDER_ID}",),
    )
    idp_settings = (
        DemoIdPSettings(issuer=demo_issuer, clients=(client,), clock=clock)
        if clock is not None
        else DemoIdPSettings(issuer=demo_issuer, clients=(client,))
    )
    provider = ProviderSettings(
        id=DEMO_PROVIDER_ID,
        display_name="the demo identity provider",
        issuer=demo_issuer,
        client_id=_CLIENT_ID,
        trusted_for=("sign_in", "nationality", "permanent_residency", "us_person_status"),
        trust_frameworks=("nist_800_63A",),
        assurance_map={"IAL1": "IAL1", "IAL2": "IAL2", "IAL3": "IAL3"},
    )
    return (provider, secret), demo_idp_mount(idp_settings)
