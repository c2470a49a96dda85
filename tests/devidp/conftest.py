"""Demo providers served by uvicorn on loopback, in background threads, for the session.

The listening socket is bound before the app exists, so the issuer can name the real port;
uvicorn then serves on that socket. Readiness is one request that waits in the socket's
backlog until the server accepts it, repeated only if the connection fails, up to a
deadline.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar import Litestar, get

from idsvc.devidp import DemoClient, DemoIdPSettings, create_demo_idp, demo_idp_mount
from tests.support.devidp.relying_party import RelyingParty

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from litestar.types import ASGIApp

STARTUP_DEADLINE = 15.0
BASIC_CLIENT = DemoClient(
    client_id="rp-basic",
    client_secret="basic-secret-0123456789",
    redirect_uris=("https://rp.example/callback", "https://rp.example/other-callback"),
)
POST_CLIENT = DemoClient(
    client_id="rp-post",
    client_secret="post-secret-0123456789",
    redirect_uris=("https://rp-post.example/callback",),
    token_endpoint_auth_method="client_secret_post",
)


class FakeClock:
    """Real time plus an offset that tests move, so expiry needs no waiting."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def settings_for(issuer: str, clock: FakeClock, **overrides: object) -> DemoIdPSettings:
    return DemoIdPSettings(
        issuer=issuer, clients=(BASIC_CLIENT, POST_CLIENT), clock=clock, **overrides
    )


def _wait_until_up(url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while True:
        if not thread.is_alive():
            raise RuntimeError("the demo IdP server thread stopped during start-up")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{url} did not answer within {STARTUP_DEADLINE} s")
        try:
            if httpx.get(url, timeout=remaining).status_code == 200:
                return
        except httpx.TransportError:
            continue


def serve(build: Callable[[str], ASGIApp], *, path: str = "") -> Iterator[str]:
    """Serve the app ``build(issuer)`` returns; yields the issuer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    issuer = f"http://127.0.0.1:{sock.getsockname()[1]}{path}"
    server = uvicorn.Server(uvicorn.Config(build(issuer), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until_up(issuer + "/.well-known/openid-configuration", thread)
        yield issuer
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_DEADLINE)
        sock.close()


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _reset_clock(clock: FakeClock) -> Iterator[None]:
    yield
    clock.offset = 0.0


@pytest.fixture(scope="session")
def issuer(clock: FakeClock) -> Iterator[str]:
    """The demo IdP on its own port."""
    yield from serve(lambda issuer: create_demo_idp(settings_for(issuer, clock)))


@pytest.fixture(scope="session")
def rsa_issuer(clock: FakeClock) -> Iterator[str]:
    """The demo IdP with an RSA key from a PEM, so it signs RS256."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    yield from serve(
        lambda issuer: create_demo_idp(settings_for(issuer, clock, signing_key=key_pem))
    )


@get("/health", sync_to_thread=False)
def parent_health() -> str:
    return "parent app"


@pytest.fixture(scope="session")
def mounted_issuer(clock: FakeClock) -> Iterator[str]:
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
async def rp(issuer: str, browser: httpx.AsyncClient, clock: FakeClock) -> RelyingParty:
    return await RelyingParty.discover(issuer, BASIC_CLIENT, browser=browser, clock=clock)
