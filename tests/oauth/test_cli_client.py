"""`idsvc login` and `idsvc token` as a person runs them: separate processes, a real
service, the approval given in the browser while `login` waits."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from idsvc.config.oauth import OAuthSettings
from idsvc.policy.model import PolicySettings
from idsvc.verify import Verifier
from tests.support.clock import FakeClock, WallClock
from tests.support.demo import demo_service
from tests.support.device_client import approve
from tests.support.signin import sign_in

# Slow tier: `make test` runs it, `make test-fast` leaves it out.
# `idsvc login` as a separate process, polling while the browser approves.
pytestmark = pytest.mark.slow

MODEL = "https://api.example.com/mythos-5"
POLICY = PolicySettings(id="mythos-5", version=1, audience=MODEL, entitlements=("model:invoke",))


@pytest.fixture
def clock() -> FakeClock:
    return WallClock()


@pytest.fixture
def service(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[str]:
    oauth = OAuthSettings(device_poll_interval=1)
    with demo_service(database_url, tmp_path, clock, policies=(POLICY,), oauth=oauth) as (url, _):
        yield url


@pytest.fixture
async def browser(service: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service, timeout=10) as client:
        yield client


def env(tmp_path: Path, service: str, *, issuer_from_env: bool = True) -> dict[str, str]:
    found = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "IDSVC_ISSUER": service}
    if not issuer_from_env:
        del found["IDSVC_ISSUER"]
    return found


async def idsvc(
    tmp_path: Path, service: str, *args: str, issuer_from_env: bool = True
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "idsvc.cli", *args,
        env=env(tmp_path, service, issuer_from_env=issuer_from_env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_login_then_token_with_caching_and_a_dpop_proof(
    browser: httpx.AsyncClient, service: str, tmp_path: Path
) -> None:
    assert (await idsvc(tmp_path, service, "token", "--audience", MODEL))[0] == 3  # not signed in
    await sign_in(browser, "us-citizen")
    login = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "idsvc.cli", "login", env=env(tmp_path, service),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert login.stdout is not None
    first_line = (await asyncio.wait_for(login.stdout.readline(), timeout=30)).decode()
    code = first_line.split("enter the code ")[1].strip()
    await approve(browser, code)
    rest, err = await asyncio.wait_for(login.communicate(), timeout=30)
    assert login.returncode == 0, err.decode()
    assert b"Signed in" in rest
    stored = next((tmp_path / "config" / "idsvc").glob("credentials-*.json"))
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600

    code1, token1, _ = await idsvc(tmp_path, service, "token", "--audience", MODEL)
    # Found: `idsvc token` needed --issuer again after `idsvc login` stored it.
    code2, token2, err2 = await idsvc(
        tmp_path, service, "token", "--audience", MODEL, issuer_from_env=False
    )
    assert code2 == 0, err2
    assert code1 == code2 == 0
    assert token1 == token2  # cached until shortly before it expires

    code3, out, err = await idsvc(
        tmp_path, service, "token", "--audience", MODEL, "--json",
        "--dpop-method", "post", "--dpop-url", "https://api.example.com/v1/infer",
    )  # fmt: skip
    assert code3 == 0, err
    printed = json.loads(out)
    jwks = (await browser.get("/.well-known/jwks.json")).json()
    claims = Verifier(issuer=service, audience=MODEL, jwks=jwks).verify(
        printed["access_token"],
        dpop_proof=printed["dpop"],
        method="POST",
        url="https://api.example.com/v1/infer",
    )
    assert claims.cnf is not None


async def test_a_denied_user_hears_the_reasons(
    browser: httpx.AsyncClient, service: str, tmp_path: Path
) -> None:
    await sign_in(browser, "foreign-national")
    login = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "idsvc.cli", "login", env=env(tmp_path, service),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert login.stdout is not None
    code = (await login.stdout.readline()).decode().split("enter the code ")[1].strip()
    await approve(browser, code)
    await asyncio.wait_for(login.communicate(), timeout=30)
    status, _, err = await idsvc(tmp_path, service, "token", "--audience", MODEL)
    assert status == 1
    assert "not_us_person" in err
