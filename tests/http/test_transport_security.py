"""Strict-Transport-Security: every response of an https deployment carries it, so a
browser never again talks plain http to the service (and never offers it the cookie)."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from idsvc.app import create_app
from tests.support.clock import FakeClock
from tests.support.settings import make_settings


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ({"cookie_secure": True}, "max-age=31536000"),
        ({"cookie_secure": True, "issuer": "https://id.example"}, "max-age=31536000"),
        (
            {"cookie_secure": True, "hsts_max_age": 600, "hsts_include_subdomains": True},
            "max-age=600; includeSubDomains",
        ),
        ({"cookie_secure": True, "hsts_max_age": 0}, None),
        ({"cookie_secure": False}, None),  # local development over plain http
    ],
)
async def test_hsts_on_every_response_of_an_https_deployment(
    database_url: str,
    tmp_path: Path,
    clock: FakeClock,
    service: dict[str, object],
    expected: str | None,
) -> None:
    app = create_app(make_settings(database_url, tmp_path, **service), clock=clock)
    async with AsyncTestClient(app=app) as client:
        for response in (
            await client.get("/healthz"),
            await client.get("/no-such-page"),
            await client.get("/login"),
        ):
            assert response.headers.get("strict-transport-security") == expected
