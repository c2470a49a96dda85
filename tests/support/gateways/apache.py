"""A real Apache httpd with mod_auth_openidc on loopback, running docs/gateways/apache.conf."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.gateways.nginx import protected_api, wait_for
from tests.support.serving import free_port, serve_in_thread

DOC_CONFIG = Path(__file__).parents[3] / "docs" / "gateways" / "apache.conf"
APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
MODULES = Path("/usr/lib/apache2/modules")
_LOADED = (
    "mpm_event",
    "authn_core",
    "authz_core",
    "authz_user",
    "headers",
    "proxy",
    "proxy_http",
    "auth_openidc",
)


@contextmanager
def apache_in_front(
    tmp_path: Path, *, issuer: str, jwks_url: str, ca_file: Path, audience: str
) -> Iterator[str]:
    with serve_in_thread(protected_api, port=free_port()) as api:  # type: ignore[arg-type]
        port = free_port()
        site = (
            DOC_CONFIG.read_text()
            .replace("https://id.example.com/.well-known/jwks.json", jwks_url)
            .replace("https://id.example.com", issuer)
            .replace("https://api.example.com/mythos-5", audience)
            .replace("127.0.0.1:8090", f"127.0.0.1:{port}")
            .replace("127.0.0.1:8081", api.removeprefix("http://"))
        )
        root = tmp_path / "apache"
        root.mkdir()
        # Apache's children run as www-data and cannot enter pytest's private tmp_path:
        # the CA they must read goes to a folder of its own that they can.
        shared = Path(tempfile.mkdtemp(prefix="idsvc-apache-"))
        shared.chmod(0o755)
        trusted = shared / "ca.crt"
        shutil.copyfile(ca_file, trusted)
        trusted.chmod(0o644)
        modules = "\n".join(f"LoadModule {m}_module {MODULES}/mod_{m}.so" for m in _LOADED)
        (root / "httpd.conf").write_text(
            f"ServerRoot {root}\nServerName localhost\nPidFile {root}/httpd.pid\n"
            f"ErrorLog {root}/error.log\nLogLevel warn\nUser www-data\nGroup www-data\n"
            f"Mutex file:{root} default\nDefaultRuntimeDir {root}\n{modules}\n"
            # The test's TLS certificate is self-signed: trust exactly it.
            f"OIDCCABundlePath {trusted}\n{site}\n"
        )
        proc = subprocess.Popen(
            [APACHE, "-f", str(root / "httpd.conf"), "-DFOREGROUND"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            wait_for(f"http://127.0.0.1:{port}/", deadline=15)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(10)
            errors = (root / "error.log").read_text() if (root / "error.log").exists() else ""
            shutil.rmtree(shared, ignore_errors=True)
            if "AH00" in errors and proc.returncode not in (0, -15):
                print(errors[-2000:])
