"""A real OpenID Provider on loopback whose answers a test can make wrong on purpose.

It speaks HTTP like any provider (discovery, JWKS, authorize, token with a real PKCE S256
check, userinfo); ``mode`` decides what it gets wrong, so each attack on the relying party
is tried against the code that really runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import msgspec
from joserfc import jwt
from joserfc.jwk import ECKey
from litestar import Litestar, Request, Response, get, post
from litestar.response import Redirect

from idsvc.config.providers import ProviderSettings
from tests.support.serving import free_port, serve_in_thread

CLIENT_ID = "idsvc"
CLIENT_SECRET = "hostile-provider-secret-0123456789"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class HostileIdP:
    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.key = ECKey.generate_key(
            "P-256", parameters={"kid": "good", "alg": "ES256", "use": "sig"}
        )
        self.stranger = ECKey.generate_key("P-256", parameters={"kid": "good", "alg": "ES256"})
        self.mode: dict[str, Any] = {}
        self.codes: dict[str, dict[str, str]] = {}
        self.subject = "hostile-subject-1"

    def verified_claims(self) -> dict[str, Any] | list[Any]:
        if "verified_claims" in self.mode:  # exactly what the test wants sent
            return self.mode["verified_claims"]  # type: ignore[no-any-return]
        when = time.gmtime(self.mode.get("verified_at", time.time() - 86_400))
        person = self.mode.get("verified_name", {})
        return {
            "verification": {
                "trust_framework": "nist_800_63A",
                "assurance_level": "IAL2",
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", when),
            },
            "claims": {
                "nationalities": self.mode.get("nationalities", ["USA"]),
                "us_person_basis": "citizen",
                **person,
            },
        }

    def id_token(self, request: dict[str, str], access_token: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.mode.get("id_token_iss", self.issuer),
            "sub": self.subject,
            "aud": self.mode.get("aud", CLIENT_ID),
            "iat": now,
            "exp": self.mode.get("exp", now + 300),
            "nonce": self.mode.get("nonce", request["nonce"]),
            "email": self.mode.get("email", "hostile@example.com"),
            "email_verified": True,
            "verified_claims": self.verified_claims(),
            # Standard claims outside the verification (a name the person typed, say).
            **self.mode.get("id_token_extra", {}),
        }
        at_hash = hashlib.sha256(access_token.encode()).digest()[:16]
        claims["at_hash"] = _b64(at_hash)
        if self.mode.get("alg_none"):
            header = _b64(json.dumps({"alg": "none", "kid": "good"}).encode())
            return f"{header}.{_b64(json.dumps(claims).encode())}."
        key = self.stranger if self.mode.get("unknown_key") else self.key
        return jwt.encode({"alg": "ES256", "kid": "good"}, claims, key)


def create_hostile_idp(idp: HostileIdP) -> Litestar:
    @get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        return {
            "issuer": idp.issuer,
            "authorization_endpoint": f"{idp.issuer}/authorize",
            "token_endpoint": f"{idp.issuer}/token",
            "userinfo_endpoint": f"{idp.issuer}/userinfo",
            "jwks_uri": f"{idp.issuer}/jwks",
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
        }

    @get("/jwks")
    async def jwks() -> dict[str, Any]:
        return {"keys": [idp.key.as_dict(private=False)]}

    @get("/authorize")
    async def authorize(request: Request[Any, Any, Any]) -> Redirect:
        params = dict(request.query_params)
        code = secrets.token_urlsafe(16)
        idp.codes[code] = params
        answer = {
            "code": code,
            "state": params["state"],
            "iss": idp.mode.get("iss_param", idp.issuer),
        }
        if idp.mode.get("omit_iss_param"):
            del answer["iss"]
        return Redirect(f"{params['redirect_uri']}?{urlencode(answer)}", status_code=303)

    @post("/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        form = dict(await request.form())
        request_params = idp.codes.pop(str(form.get("code")), None)
        if request_params is None:
            return Response({"error": "invalid_grant"}, status_code=400)
        verifier = str(form.get("code_verifier", ""))
        if _b64(hashlib.sha256(verifier.encode()).digest()) != request_params.get("code_challenge"):
            return Response(
                {"error": "invalid_grant", "error_description": "PKCE"}, status_code=400
            )
        access_token = secrets.token_urlsafe(16)
        return Response(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": idp.id_token(request_params, access_token),
            }
        )

    @get("/userinfo")
    async def userinfo() -> dict[str, Any]:
        return {
            "sub": idp.mode.get("userinfo_sub", idp.subject),
            "verified_claims": idp.verified_claims(),
        }

    return Litestar(
        route_handlers=[discovery, jwks, authorize, token, userinfo], openapi_config=None
    )


@contextmanager
def running_hostile_idp() -> Iterator[HostileIdP]:
    """The provider, served on a free loopback port while the block runs."""
    port = free_port()
    hostile = HostileIdP(f"http://127.0.0.1:{port}")
    with serve_in_thread(create_hostile_idp(hostile), port=port):
        yield hostile


def hostile_provider(idp: HostileIdP, **changes: Any) -> ProviderSettings:
    """How idsvc is configured for it: trusted for nationality and U.S.-person status."""
    settings = ProviderSettings(
        id="hostile",
        display_name="Hostile",
        issuer=idp.issuer,
        client_id=CLIENT_ID,
        trusted_for=("sign_in", "nationality", "us_person_status"),
        trust_frameworks=("nist_800_63A",),
        assurance_map={"IAL2": "IAL2"},
        max_evidence_age=30 * 86_400,
    )
    return msgspec.structs.replace(settings, **changes)
