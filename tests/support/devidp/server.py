"""Demo providers served by uvicorn on loopback, in background threads.

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
import uvicorn
from litestar import get

from idsvc.devidp import DemoClient, DemoIdPSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from litestar.types import ASGIApp

    from tests.support.clock import FakeClock

__all__ = ["BASIC_CLIENT", "POST_CLIENT", "parent_health", "serve", "settings_for"]

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


def settings_for(issuer: str, clock: FakeClock, **overrides: object) -> DemoIdPSettings:
    return DemoIdPSettings(
        issuer=issuer, clients=(BASIC_CLIENT, POST_CLIENT), clock=clock.timestamp, **overrides
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


@get("/health", sync_to_thread=False)
def parent_health() -> str:
    return "parent app"
