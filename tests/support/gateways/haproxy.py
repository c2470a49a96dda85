"""A real HAProxy on loopback running docs/gateways/haproxy.cfg: its own jwt_verify with
the keys from idsvc's PEM export, in front of a tiny protected API. No sidecar."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.gateways.nginx import protected_api, wait_for
from tests.support.serving import free_port, serve_in_thread

DOC_CONFIG = Path(__file__).parents[3] / "docs" / "gateways" / "haproxy.cfg"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
KEY_SLOTS = 3
_PEM_BLOCK = re.compile(
    r"# kid: (?P<kid>\S+)\n# alg: (?P<alg>\S+)\n"
    r"(?P<pem>-----BEGIN PUBLIC KEY-----\n.*?-----END PUBLIC KEY-----\n?)",
    re.DOTALL,
)


def signing_key_blocks(pem_export: str) -> dict[str, str]:
    """The ES256 blocks of a PEM export by kid, in the export's order."""
    return {m["kid"]: m.group(0) for m in _PEM_BLOCK.finditer(pem_export) if m["alg"] == "ES256"}


def write_signing_keys(pem_export: str, folder: Path) -> list[str]:
    """What docs/gateways/haproxy.cfg asks of an operator: each ES256 block of
    ``/keys/signing-keys.pem`` into its own slot, the last one repeated into unused slots.
    Returns the kids written."""
    blocks = signing_key_blocks(pem_export)
    assert 1 <= len(blocks) <= KEY_SLOTS, pem_export
    ordered = list(blocks.values())
    for slot in range(KEY_SLOTS):
        (folder / f"signing-key-{slot + 1}.pem").write_text(ordered[min(slot, len(ordered) - 1)])
    return list(blocks)


@contextmanager
def haproxy_in_front(
    tmp_path: Path,
    *,
    issuer: str,
    audience: str,
    api_app: Any = protected_api,
    keys: str | None = None,
) -> Iterator[str]:
    """HAProxy with the documented configuration in front of ``api_app``, with the keys of
    ``keys`` (a PEM export; default: idsvc's, fetched now); yields its base URL."""
    if keys is None:
        exported = httpx.get(f"{issuer}/keys/signing-keys.pem", timeout=10)
        exported.raise_for_status()
        keys = exported.text
    with serve_in_thread(api_app, port=free_port()) as api:
        folder = tmp_path / f"haproxy-{free_port()}"
        folder.mkdir()
        write_signing_keys(keys, folder)
        port = free_port()
        config = (
            DOC_CONFIG.read_text()
            .replace("/etc/haproxy/idsvc", str(folder))
            .replace("https://id.example.com", issuer)
            .replace("https://api.example.com/mythos-5", audience)
            .replace("127.0.0.1:8083", f"127.0.0.1:{port}")
            .replace("127.0.0.1:8081", api.removeprefix("http://"))
        )
        (folder / "haproxy.cfg").write_text(config)
        log = folder / "haproxy.log"
        with log.open("wb") as output:
            # -db: foreground, no daemon, no master process.
            proc = subprocess.Popen(
                [HAPROXY, "-db", "-f", str(folder / "haproxy.cfg")],
                stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            try:
                wait_for(f"http://127.0.0.1:{port}/", deadline=10)
            except RuntimeError:
                raise RuntimeError(f"haproxy did not start:\n{log.read_text()[-2000:]}") from None
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(10)
