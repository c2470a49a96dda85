"""Fixtures for the vetting API: the app with an operator configured, verified users, and
a DNS server on loopback for domain verification."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc import db
from idsvc.accounts.operators import grant_operator
from idsvc.screening.csl import parse_csl
from idsvc.screening.lists import import_snapshot
from idsvc.settings import DnsSettings, Settings
from tests.conftest import FakeClock, make_settings
from tests.support.dns_server import TxtZone, serve_dns
from tests.support.signin import Caller, signed_in

OPERATOR_SUBJECT = "vetting-operator"
SAMPLE_LIST = Path(__file__).parents[2] / "screening" / "fixtures" / "csl_sample.csv"

_ATTEST = """
INSERT INTO attestations (id, user_id, kind, attested_values, provider, trust_framework,
                          assurance, verified_at, expires_at, recorded_at)
VALUES ($1, $2, 'us_person_basis', '{citizen}', 'test', 'test', 'IAL2', $3, $4, $3)
"""


@pytest.fixture
def dns() -> Iterator[tuple[TxtZone, int]]:
    with serve_dns() as served:
        yield served


@pytest.fixture
def zone(dns: tuple[TxtZone, int]) -> TxtZone:
    return dns[0]


@pytest.fixture
def settings(database_url: str, tmp_path: Path, dns: tuple[TxtZone, int]) -> Settings:
    base = make_settings(
        database_url,
        tmp_path,
        operators=(f"test:{OPERATOR_SUBJECT}",),
        cookie_secure=False,
        max_request_body=16384,
    )
    resolver = DnsSettings(nameservers=("127.0.0.1",), port=dns[1], timeout=2.0)
    return msgspec.structs.replace(base, config=msgspec.structs.replace(base.config, dns=resolver))


async def verify_user(pool: db.Pool, user_id: uuid.UUID, now: datetime) -> None:
    """Give the user a current attestation, as a proofing provider would."""
    async with db.transaction(pool) as conn:
        await conn.execute(_ATTEST, uuid.uuid4(), user_id, now, now + timedelta(days=365))


async def verified_caller(pool: db.Pool, clock: FakeClock, **kwargs: str) -> Caller:
    caller = await signed_in(pool, clock(), **kwargs)
    await verify_user(pool, caller.user_id, clock())
    return caller


async def load_list(pool: db.Pool, clock: FakeClock, data: bytes | None = None) -> None:
    """A restricted-party list (the fixture's unless ``data``), imported now, without the
    re-screening an import by the CLI does: approvals need a current list."""
    data = data if data is not None else SAMPLE_LIST.read_bytes()
    async with db.transaction(pool) as conn:
        await import_snapshot(conn, data=data, rows=parse_csl(data), actor="test", now=clock())


async def operator_caller(pool: db.Pool, clock: FakeClock) -> Caller:
    return await signed_in(pool, clock(), subject=OPERATOR_SUBJECT)


async def second_operator_caller(pool: db.Pool, clock: FakeClock) -> Caller:
    """Another operator (granted at run time), for decisions that need four eyes."""
    caller = await signed_in(pool, clock(), email="second-operator@provider.example")
    async with db.transaction(pool) as conn:
        await grant_operator(
            conn, user_id=caller.user_id, reason="tests: four eyes", actor="test", now=clock()
        )
    return caller


def org_request(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "legal_name": "Northwind Analytics, Inc.",
        "country": "USA",
        "registration_ids": [{"scheme": "us-ein", "value": "12-3456789"}],
        "contact_email": "compliance@northwind.example",
        "domains": ["Northwind.example"],
        "programs_requested": ["critical-infrastructure"],
    }
    body.update(overrides)
    return body


async def call(
    client: AsyncTestClient[Litestar],
    caller: Caller,
    method: str,
    url: str,
    json: object = None,
) -> Response:
    """One request as ``caller``: its session cookie, and its CSRF header."""
    client.cookies.clear()
    client.cookies.update(caller.cookies)
    if json is None:
        return await client.request(method, url, headers=caller.headers)
    return await client.request(method, url, json=json, headers=caller.headers)


async def audit_actions(pool: db.Pool, target: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT action FROM audit_events WHERE target = $1 ORDER BY seq", target
    )
    return [r["action"] for r in rows]


def problem_code(response: Response) -> str:
    """The stable code of an RFC 9457 problem (its ``type`` is ``urn:idsvc:problem:CODE``)."""
    problem_type: str = response.json()["type"]
    return problem_type.removeprefix("urn:idsvc:problem:")
