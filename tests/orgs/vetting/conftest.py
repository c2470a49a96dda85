"""Fixtures for the vetting API: the app with an operator configured, and a DNS server on
loopback for domain verification. Helpers: tests.support.vetting, tests.support.signin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from idsvc.settings import DnsSettings, Settings
from tests.support.dns_server import TxtZone, serve_dns
from tests.support.settings import make_settings
from tests.support.vetting import OPERATOR_SUBJECT


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
