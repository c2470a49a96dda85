"""A program using the device flow over HTTP, as `idsvc login` or an SDK would, plus the
person approving it in the browser."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from tests.support.clock import FakeClock
from tests.support.forge import Key, dpop_proof

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class DeviceProgram:
    def __init__(
        self, http: httpx.AsyncClient, clock: FakeClock, *, client_id: str = "idsvc-cli"
    ) -> None:
        self.http = http
        self.clock = clock
        self.client_id = client_id
        self.key = Key()

    def proof(self, path: str, key: Key | None = None, nonce: str | None = None) -> str:
        return dpop_proof(
            key or self.key,
            "",
            ath=None,
            htu=f"{self.http.base_url}{path}".replace("//oauth2", "/oauth2"),
            iat=self.clock().timestamp(),
            nonce=nonce,
        )

    async def start(self) -> dict[str, Any]:
        response = await self.http.post(
            "/oauth2/device_authorization", data={"client_id": self.client_id}
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def token(
        self, form: dict[str, str], *, key: Key | None = None, dpop: bool = True
    ) -> httpx.Response:
        headers = {"DPoP": self.proof("/oauth2/token", key)} if dpop else {}
        return await self.http.post(
            "/oauth2/token", data={"client_id": self.client_id, **form}, headers=headers
        )

    async def poll(self, device_code: str, **extra: str) -> httpx.Response:
        return await self.token(
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": device_code,
                **extra,
            }
        )

    async def refresh(
        self, refresh_token: str, audience: str, *, key: Key | None = None
    ) -> httpx.Response:
        return await self.token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token, "resource": audience},
            key=key,
        )


async def approve(
    browser: httpx.AsyncClient, user_code: str, *, decision: str = "approve"
) -> httpx.Response:
    """The signed-in person opens the verification page and decides."""
    page = await browser.get("/device", params={"user_code": user_code})
    assert page.status_code == 200, page.text
    match = _CSRF.search(page.text)
    assert match is not None, page.text
    return await browser.post(
        "/device",
        data={
            "csrf_token": html.unescape(match.group(1)),
            "user_code": user_code,
            "decision": decision,
        },
    )
