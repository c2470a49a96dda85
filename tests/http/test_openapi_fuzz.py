"""schemathesis (from PyPI) against the service's own OpenAPI document, as an operator, an
org admin (with the org's SCIM token), a member and nobody: bounded in examples and time,
no answer may be a 5xx, and every answer must be one the document describes (status, media
type, schema). The service runs for real (uvicorn, PostgreSQL); schemathesis is a separate
process that reads the document over HTTP like any client would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from idsvc import db
from idsvc.app import create_app
from idsvc.policy.model import PolicySettings
from idsvc.scim.tokens import create_token
from idsvc.settings import SmtpSettings
from tests.support.factories import add_member, attest, create_org
from tests.support.mailbox import Inbox
from tests.support.serving import serve_in_thread
from tests.support.settings import make_settings
from tests.support.signin import Caller, session_caller

# Slow tier: `make test` runs it, `make test-fast` leaves it out.
# Fuzzing: four schemathesis runs of up to 60 s each (~250 s serial).
pytestmark = pytest.mark.slow

OPERATOR = "fuzz-operator"
POLICY = PolicySettings(
    id="model", version=1, audience="https://model.example", entitlements=("model:invoke",)
)
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)
# Enough to reach every operation with valid and invalid inputs several times; bounded so
# the four runs together stay within a few minutes on two cores.
MAX_EXAMPLES = int(os.environ.get("IDSVC_FUZZ_EXAMPLES", "12"))
MAX_SECONDS = int(os.environ.get("IDSVC_FUZZ_SECONDS", "60"))


@dataclass(frozen=True)
class World:
    base_url: str
    callers: dict[str, Caller]
    scim_token: str
    # Ids of real rows, so requests reach past "not found" into the handlers.
    known: dict[str, str]


@pytest.fixture
async def world(
    database_url: str, tmp_path: Path, pool: db.Pool, inbox: tuple[Inbox, int]
) -> AsyncIterator[World]:
    settings = make_settings(
        database_url,
        tmp_path,
        operators=(f"test:{OPERATOR}",),
        policies=(POLICY,),
        cookie_secure=False,
        max_request_body=16384,
        # The fuzzer is one client sending thousands of requests; the limits are tested
        # elsewhere, here they would only answer 429 instead of exercising the routes.
        signin_rate_limit=1_000_000,
        token_rate_limit=1_000_000,
    )
    # Invitations are sent to a real SMTP server on loopback (without one they answer 503).
    smtp = SmtpSettings(
        host="127.0.0.1", port=inbox[1], security="none", from_address="idsvc@acme.example"
    )
    settings = msgspec.structs.replace(
        settings, config=msgspec.structs.replace(settings.config, smtp=smtp)
    )

    async def populate() -> tuple[dict[str, Caller], dict[str, str], str]:
        now = datetime.now(UTC)
        operator = await session_caller(pool, now, subject=OPERATOR)
        admin = await session_caller(pool, now, email="admin@acme.example")
        member = await session_caller(pool, now, email="member@acme.example")
        async with db.transaction(pool) as conn:
            org_id = await create_org(conn, now)
            await add_member(conn, now, org_id, admin.user_id, role="admin")
            membership = await add_member(conn, now, org_id, member.user_id)
            await attest(conn, now, member.user_id)
            await attest(conn, now, admin.user_id, nationalities=("CA",), basis=None)
            _, token = await create_token(
                conn, org_id=org_id, label="fuzz", created_by=admin.user_id, now=now
            )
        callers = {"operator": operator, "org_admin": admin, "member": member}
        known = {
            "org_id": str(org_id),
            "user_id": str(member.user_id),
            "membership_id": str(membership.id),
        }
        return callers, known, token

    # The app first: it puts its key-encryption key in use, and the attestations written
    # below seal personal values under per-person keys that key wraps.
    app = create_app(settings)
    callers, known, token = await populate()
    with serve_in_thread(app) as base_url:
        yield World(base_url=base_url, callers=callers, known=known, scim_token=token)


def _headers(world: World, role: str) -> list[str]:
    if role == "anonymous":
        return []
    caller = world.callers[role]
    cookie = "; ".join(f"{name}={value}" for name, value in caller.cookies.items())
    headers = [f"Cookie: {cookie}", f"X-CSRF-Token: {caller.headers['x-csrf-token']}"]
    if role == "org_admin":
        headers.append(f"Authorization: Bearer {world.scim_token}")
    return headers


@pytest.mark.parametrize("role", ["operator", "org_admin", "member", "anonymous"])
def test_no_input_causes_a_server_error(world: World, role: str, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[parameters]\n" + "".join(f'"path.{k}" = "{v}"\n' for k, v in world.known.items())
    )
    command = [
        _schemathesis(),
        "--config-file",
        str(config),
        "run",
        f"{world.base_url}/schema/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(MAX_SECONDS),
        "--seed",
        "20261203",
        # One worker: hypothesis' lambda descriptions are not thread-safe on Python 3.11
        # (an "AST constructor recursion depth mismatch" error inside the fuzzer).
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        "--no-color",
        "--suppress-health-check",
        "filter_too_much,too_slow",
        # Our credentials, not generated ones: the security schemes describe the cookie
        # and the CSRF header, which schemathesis would otherwise fill with random text.
        "--generation-with-security-parameters",
        "false",
    ]
    for header in _headers(world, role):
        command += ["-H", header]
    done = subprocess.run(
        command, cwd=tmp_path, check=False, capture_output=True, text=True, timeout=MAX_SECONDS * 3
    )
    if keep := os.environ.get("IDSVC_FUZZ_REPORT_DIR"):
        Path(keep, f"{role}.txt").write_text(done.stdout + done.stderr)
    report = done.stdout[-12_000:] + done.stderr[-4_000:]
    assert done.returncode == 0, report


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert found, "schemathesis is a dev dependency (requirements-dev.txt)"
    return found
