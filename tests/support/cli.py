"""Running the ``idsvc`` command as an operator would: a separate process, its own env."""

from __future__ import annotations

import asyncio
import os
import sys

from tests.support.settings import TEST_KEK

__all__ = ["run_idsvc"]


async def run_idsvc(
    *args: str,
    database_url: str,
    config: str | None = None,
    kek: str | None = None,
    login: str | None = None,
) -> tuple[int, str, str]:
    """Exit code, standard output and standard error of ``idsvc ARGS``, with the session's
    key-encryption key unless ``kek`` names another (a deployment's commands use the
    service's), run by ``login`` where given (the operator a command acts as)."""
    env = {**os.environ, "IDSVC_DATABASE_URL": database_url}
    if login is not None:
        # getpass.getuser() reads these first: the operator the command records.
        env.update(LOGNAME=login, USER=login)
    env["IDSVC_KEY_ENCRYPTION_KEY"] = TEST_KEK if kek is None else kek
    env.pop("IDSVC_CONFIG", None)
    if config is not None:
        env["IDSVC_CONFIG"] = config
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "idsvc.cli", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
