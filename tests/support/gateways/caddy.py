"""A real Caddy on loopback running docs/gateways/caddy.Caddyfile: forward_auth to the
idsvc sidecar (started with tests.support.gateways.nginx.sidecar) in front of a tiny
protected API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.gateways.nginx import protected_api, wait_for
from tests.support.serving import free_port, serve_in_thread

DOC_CONFIG = Path(__file__).parents[3] / "docs" / "gateways" / "caddy.Caddyfile"
CADDY = shutil.which("caddy") or "/usr/bin/caddy"


async def eligibility_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A protected API answering with every X-Eligibility-* header it received, as JSON
    (``protected_api`` echoes only two): shows that none of a client's own gets through."""
    if scope["type"] != "http":
        return
    seen = {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope["headers"]
        if name.lower().startswith(b"x-eligibility-")
    }
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(seen).encode()})


@contextmanager
def caddy_in_front(
    tmp_path: Path, sidecar_address: str, *, api_app: Any = protected_api
) -> Iterator[str]:
    """Caddy with the documented Caddyfile in front of ``api_app``; yields its base URL."""
    with serve_in_thread(api_app, port=free_port()) as api:
        port = free_port()
        config = (
            DOC_CONFIG.read_text()
            .replace(":8082", f":{port}")
            .replace("127.0.0.1:9191", sidecar_address)
            .replace("127.0.0.1:8081", api.removeprefix("http://"))
        )
        folder = tmp_path / "caddy"
        folder.mkdir()
        (folder / "Caddyfile").write_text(config)
        # Caddy keeps state under $HOME / XDG folders: the test's own, not the machine's.
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(folder),
            "XDG_DATA_HOME": str(folder / "data"),
            "XDG_CONFIG_HOME": str(folder / "config"),
        }
        log = folder / "caddy.log"
        with log.open("wb") as stderr:
            proc = subprocess.Popen(
                [CADDY, "run", "--adapter", "caddyfile", "--config", str(folder / "Caddyfile")],
                env=env, stdout=subprocess.DEVNULL, stderr=stderr,
            )  # fmt: skip
        try:
            try:
                wait_for(f"http://127.0.0.1:{port}/", deadline=10)
            except RuntimeError:
                raise RuntimeError(f"caddy did not start:\n{log.read_text()[-2000:]}") from None
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(10)
