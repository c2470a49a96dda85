"""An ASGI middleware that protects any ASGI app (Litestar, Starlette, ...) with a Verifier.

No framework is imported: it speaks raw ASGI. Verified claims are put in
``scope["state"]["eligibility"]``. Behind a proxy the request URL the client signed in its
DPoP proof is the public one, so ``public_base_url`` names it instead of trusting Host.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from idsvc.verify.requests import Refused, check_request
from idsvc.verify.verifier import Verifier

__all__ = ["EligibilityMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class EligibilityMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        verifier: Verifier,
        *,
        public_base_url: str | None = None,
        exempt_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        decision = check_request(
            self.verifier,
            authorization=headers.get("authorization"),
            dpop=[v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"dpop"],
            method=scope["method"],
            url=self._url(scope, headers),
        )
        if isinstance(decision, Refused):
            await _refuse(send, decision)
            return
        scope.setdefault("state", {})["eligibility"] = decision.claims
        await self.app(scope, receive, send)

    def _url(self, scope: Scope, headers: dict[str, str]) -> str:
        path = str(scope.get("root_path", "")) + str(scope["path"])
        if self.public_base_url is not None:
            return self.public_base_url + path
        host = headers.get("host") or f"{scope['server'][0]}:{scope['server'][1]}"
        return f"{scope.get('scheme', 'http')}://{host}{path}"


async def _refuse(send: Send, refused: Refused) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": refused.status,
            "headers": [
                (b"www-authenticate", refused.challenge.encode()),
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": refused.reason.encode()})
