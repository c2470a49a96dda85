"""Demo providers served on loopback for the session (tests.support.devidp.server), sharing
one wall clock that tests move forward and that goes back after each test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar import Litestar

from idsvc.devidp import create_demo_idp, demo_idp_mount
from tests.support.clock import WallClock
from tests.support.devidp.relying_party import RelyingParty
from tests.support.devidp.server import BASIC_CLIENT, parent_health, serve, settings_for

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator


@pytest.fixture(scope="session")
def clock() -> WallClock:
    """Real time plus an offset that tests move, so expiry needs no waiting."""
    return WallClock()


@pytest.fixture(autouse=True)
def _reset_clock(clock: WallClock) -> Iterator[None]:
    yield
    clock.reset()


@pytest.fixture(scope="session")
def issuer(clock: WallClock) -> Iterator[str]:
    """The demo IdP on its own port."""
    yield from serve(lambda issuer: create_demo_idp(settings_for(issuer, clock)))


@pytest.fixture(scope="session")
def rsa_issuer(clock: WallClock) -> Iterator[str]:
    """The demo IdP with an RSA key from a PEM, so it signs RS256."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    yield from serve(
        lambda issuer: create_demo_idp(settings_for(issuer, clock, signing_key=key_pem))
    )


@pytest.fixture(scope="session")
def mounted_issuer(clock: WallClock) -> Iterator[str]:
    """The demo IdP mounted at /demo-idp inside another Litestar app."""

    def build(issuer: str) -> Litestar:
        mount = demo_idp_mount(settings_for(issuer, clock))
        return Litestar(route_handlers=[mount, parent_health], openapi_config=None)

    yield from serve(build, path="/demo-idp")


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    # A user agent that stops at every redirect, so a test reads where it would go
    # instead of following it into the relying party's redirect URI.
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as client:
        yield client


@pytest.fixture
async def rp(issuer: str, browser: httpx.AsyncClient, clock: WallClock) -> RelyingParty:
    return await RelyingParty.discover(issuer, BASIC_CLIENT, browser=browser, clock=clock.timestamp)
