"""An ASGI middleware that protects any ASGI app (Litestar, Starlette, ...) with a Verifier.

No framework is imported: it speaks raw ASGI. Verified claims are put in
``scope["state"]["eligibility"]``. Behind a proxy the request URL the client signed in its
DPoP proof is the public one, so ``public_base_url`` names it instead of trusting Host.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from idsvc.verify.errors import TokenRevoked, TokenSuspended, VerificationError
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
        scheme, _, token = headers.get("authorization", "").partition(" ")
        scheme = scheme.lower()
        if scheme not in ("bearer", "dpop") or not token:
            await _refuse(send, 401, "Bearer", "invalid_request", "missing token")
            return
        try:
            claims = self.verifier.verify(
                token.strip(),
                dpop_proof=headers.get("dpop"),
                method=scope["method"],
                url=self._url(scope, headers),
            )
        except (TokenRevoked, TokenSuspended) as exc:
            await _refuse(send, 403, _challenge(scheme), "invalid_token", exc.code)
            return
        except VerificationError as exc:
            await _refuse(send, 401, _challenge(scheme), "invalid_token", exc.code)
            return
        if claims.cnf is not None and scheme != "dpop":
            # RFC 9449 §7.1: a bound token presented as a bearer token is a downgrade.
            await _refuse(send, 401, "DPoP", "invalid_token", "dpop_required")
            return
        scope.setdefault("state", {})["eligibility"] = claims
        await self.app(scope, receive, send)

    def _url(self, scope: Scope, headers: dict[str, str]) -> str:
        path = str(scope.get("root_path", "")) + str(scope["path"])
        if self.public_base_url is not None:
            return self.public_base_url + path
        host = headers.get("host") or f"{scope['server'][0]}:{scope['server'][1]}"
        return f"{scope.get('scheme', 'http')}://{host}{path}"


def _challenge(scheme: str) -> str:
    return "DPoP" if scheme == "dpop" else "Bearer"


async def _refuse(send: Send, status: int, scheme: str, error: str, description: str) -> None:
    challenge = f'{scheme} error="{error}", error_description="{description}"'
    if scheme == "DPoP":
        challenge += ', algs="ES256 EdDSA RS256"'
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"www-authenticate", challenge.encode()),
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": description.encode()})
