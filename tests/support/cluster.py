"""A PostgreSQL server of the test's own, to stop, restart (and later fail over) at will.

The shared test server cannot be restarted under the rest of the suite, so fault tests
make their own with the PostgreSQL binaries that ship in the ``pgserver`` wheel (the same
ones the embedded server uses, so no system package is needed). PostgreSQL refuses to run
as root: as root, the server runs as the unprivileged user ``pgserver`` creates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from pgserver._commands import POSTGRES_BIN_PATH
from pgserver.utils import ensure_user_exists

from tests.support.serving import free_port

__all__ = ["LocalCluster", "local_cluster"]

_SYSTEM_USER = "pgserver"


class LocalCluster:
    def __init__(self, root: Path, name: str = "data") -> None:
        self.root = root
        self.data = root / name
        self.port = free_port()
        self._user = _SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            timeout=timeout,
            user=self._user,
            cwd=self.root,
        )

    def init(self) -> None:
        if self._user is not None:
            ensure_user_exists(self._user)
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, self._user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nfsync = off\n"
            )

    def standby(self, name: str = "standby") -> LocalCluster:
        """A streaming standby of this (running) server, made with pg_basebackup -R, on a
        port of its own, started."""
        standby = LocalCluster(self.root, name)
        self._run(
            "pg_basebackup", "-D", str(standby.data), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", "postgres", "-R", "-X", "stream", timeout=120,
        )  # fmt: skip
        with (standby.data / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {standby.port}\n")
        standby.start()
        return standby

    def promote(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "promote")

    def start(self) -> None:
        log = self.root / f"{self.data.name}.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), timeout=5)
                return
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


@contextmanager
def local_cluster() -> Iterator[LocalCluster]:
    root = Path(tempfile.mkdtemp(prefix="idsvc-faults-", dir="/tmp"))
    cluster = LocalCluster(root)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):  # already stopped by the test
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
