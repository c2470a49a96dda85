"""The logs a real `idsvc dev` process writes, as README describes them: one JSON object
per line on stderr; every request's access line carries its request id, route template,
status and duration, and no path, query string or address. The demo provider's requests
are labelled by its mount in the logs and the metrics, not "unmatched"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.serving import free_port


def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "idsvc dev exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("idsvc dev did not start within 60 s")


def test_idsvc_dev_writes_json_access_lines(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "IDSVC_DATABASE_URL": database_url, "IDSVC_DATA_DIR": str(tmp_path)}
    env.pop("IDSVC_CONFIG", None)
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "idsvc.cli", "dev", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            _wait_ready(base, proc)
            with httpx.Client(base_url=base, timeout=10) as client:
                client.get("/v1/me?secret=do-not-log", headers={"X-Request-Id": "quickstart-1"})
                client.get("/demo-idp/.well-known/openid-configuration")
                metrics = client.get("/metrics").text
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [r for r in records if r["logger"] == "idsvc.access"]
    me = next(r for r in access if r.get("request_id") == "quickstart-1")
    assert me["route"] == "/v1/me"
    assert me["status"] == 401
    assert me["method"] == "GET"
    assert isinstance(me["duration_ms"], float)
    assert "do-not-log" not in log.read_text()
    assert any(r["route"] == "/demo-idp/*" for r in access)
    assert 'route="/demo-idp/*"' in metrics
    assert not any(r["level"] in ("error", "critical") for r in records), records
