"""A real NGINX on loopback running docs/gateways/nginx.conf, plus the idsvc sidecar as
a separate process and a tiny protected API."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.serving import free_port, serve_in_thread

DOC_CONFIG = Path(__file__).parents[3] / "docs" / "gateways" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


async def protected_api(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
    """Echoes what the gateway told it about the caller."""
    if scope["type"] != "http":
        return
    headers = dict(scope["headers"])
    body = (
        b"sub="
        + headers.get(b"x-eligibility-sub", b"")
        + b" org="
        + headers.get(b"x-eligibility-org", b"")
    )
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )  # type: ignore[operator]
    await send({"type": "http.response.body", "body": body})  # type: ignore[operator]


def wait_for(url: str, deadline: float = 20.0, *, verify: bool = True) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if httpx.get(url, timeout=1, verify=verify).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def sidecar(issuer: str, audience: str, *extra: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "idsvc.cli", "gateway", "--issuer", issuer, "--audience", audience,
         "--listen", f"127.0.0.1:{port}", *extra],
        env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def run_nginx(folder: Path, server_block: str, port: int, *, scheme: str = "http") -> Iterator[str]:
    """NGINX as its own process with ``server_block`` inside ``http { }``."""
    folder.mkdir()
    (folder / "nginx.conf").write_text(
        f"daemon off;\nmaster_process off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log warn;\nevents {{ worker_connections 128; }}\n"
        f"http {{\n access_log off;\n client_body_temp_path {folder}/body;\n"
        f" proxy_temp_path {folder}/proxy;\n fastcgi_temp_path {folder}/fastcgi;\n"
        f" uwsgi_temp_path {folder}/uwsgi;\n scgi_temp_path {folder}/scgi;\n"
        f"{server_block}\n}}\n"
    )
    proc = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"),
         "-e", str(folder / "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/", deadline=10, verify=False)
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def nginx_in_front(tmp_path: Path, sidecar_address: str) -> Iterator[str]:
    """NGINX with the documented server block; yields its base URL."""
    with serve_in_thread(protected_api, port=free_port()) as api:  # type: ignore[arg-type]
        port = free_port()
        server_block = (
            DOC_CONFIG.read_text()
            .replace("127.0.0.1:8081", api.removeprefix("http://"))
            .replace("127.0.0.1:9191", sidecar_address)
            .replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        )
        with run_nginx(tmp_path / "nginx", server_block, port) as base:
            yield base
