"""An embedded PostgreSQL server for when ``IDSVC_DATABASE_URL`` is not set.

It is a real server process (from the ``pgserver`` wheel, which ships PostgreSQL binaries),
kept in the data folder so its data survives restarts, and stopped when the last process
using it exits. The service then runs through exactly the same asyncpg code path as with an
external database.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

__all__ = ["EmbeddedPostgres"]


class EmbeddedPostgres:
    """Start (or join) the embedded server in ``data_dir``; ``url`` is its DSN."""

    def __init__(self, data_dir: Path, *, keep_running: bool = False) -> None:
        # pgserver logs every command line at INFO and asks platformdirs for a runtime
        # folder, which warns where XDG_RUNTIME_DIR is unset (containers, CI).
        logging.getLogger("pgserver").setLevel(logging.WARNING)
        if "XDG_RUNTIME_DIR" not in os.environ:
            # The XDG spec (and platformdirs) wants the runtime folder private: mode 0700.
            runtime_dir = data_dir.parent / "run"
            runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            runtime_dir.chmod(0o700)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime_dir)
        # Imported here: only the embedded path needs it, and it is slow to import.
        from pgserver.postgres_server import get_server

        data_dir.mkdir(parents=True, exist_ok=True)
        # "stop" ends the server when the last process that joined it exits; tests use
        # keep_running=False with a throwaway folder.
        self._server: Any = get_server(data_dir, cleanup_mode=None if keep_running else "stop")

    @property
    def url(self) -> str:
        return str(self._server.get_uri())

    def stop(self) -> None:
        self._server.cleanup()
