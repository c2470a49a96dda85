"""The authorization code grant with OpenID Connect and PKCE, as Authlib extensions.

Authlib does the protocol: client and redirect URI checks, client authentication,
``state`` echo, PKCE comparison, ID token assembly and signing. This module fills in
what Authlib leaves to the application (storage, the user, keys, claims) and tightens
three of its defaults that are lenient for compatibility: PKCE is required of every
client and only as S256, ``nonce`` and ``state`` are required, and ``openid`` must be
among the scopes.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeGrant,
    InvalidRequestError,
    InvalidScopeError,
)
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode

from idsvc.devidp.claims import (
    ClaimsRequestError,
    parse_claims_request,
    standard_claims,
    verified_claims,
)
from idsvc.devidp.store import AccessGrant, DemoStore, IssuedCode

if TYPE_CHECKING:
    from idsvc.devidp.keys import SigningKey
    from idsvc.devidp.personas import Persona
    from idsvc.devidp.settings import Clock, DemoClient

__all__ = ["AccessTokenValidator", "DemoCodeGrant", "DemoOpenIDCode", "S256CodeChallenge"]


class DemoCodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]  # Authlib is untyped
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    @property
    def _store(self) -> DemoStore:
        store: DemoStore = self.server.store
        return store

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        # From here on the client and redirect_uri are verified, so errors carry
        # redirect_uri and reach the client as redirects (RFC 6749 §4.1.2.1).
        data = self.request.payload.data
        if "openid" not in self.request.scope.split():
            raise InvalidScopeError("The 'openid' scope is required.", redirect_uri=redirect_uri)
        # RFC 6749 calls state RECOMMENDED; idsvc's relying party always sends it, and a
        # demo that tolerated its absence would hide a CSRF bug in a client.
        if not data.get("state"):
            raise InvalidRequestError("Missing 'state' in request.", redirect_uri=redirect_uri)
        try:
            parse_claims_request(data.get("claims"))
        except ClaimsRequestError as exc:
            raise InvalidRequestError(str(exc), redirect_uri=redirect_uri) from None
        return redirect_uri

    def generate_authorization_code(self) -> str:
        return secrets.token_urlsafe(32)

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        persona: Persona = request.user
        self._store.save_code(
            IssuedCode(
                code=code,
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                nonce=data.get("nonce"),
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                persona=persona,
                auth_time=int(self._store.clock()),
                claims=parse_claims_request(data.get("claims")),
            )
        )

    def query_authorization_code(self, code: str, client: DemoClient) -> IssuedCode | None:
        return self._store.redeem_code(code, client.client_id)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        """Nothing left to delete: ``redeem_code`` consumed the code when it was read."""

    def authenticate_user(self, authorization_code: IssuedCode) -> Persona:
        return authorization_code.persona


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, confidential ones too (RFC 9700 §2.1.1), S256 only.

    Authlib's ``CodeChallenge(required=True)`` requires a verifier only of public
    clients and accepts "plain"; the demo's clients are confidential.
    """

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: DemoCodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE with S256 is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class DemoOpenIDCode(OpenIDCode):  # type: ignore[misc]
    """Signs the ID token with the demo key and the injected clock."""

    def __init__(
        self, *, issuer: str, key: SigningKey, clock: Clock, lifetime: int, store: DemoStore
    ) -> None:
        super().__init__(require_nonce=True)
        self._issuer = issuer
        self._key = key
        self._clock = clock
        self._lifetime = lifetime
        self._store = store

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return self._store.nonce_seen(request.payload.client_id, nonce)

    def resolve_client_private_key(self, client: DemoClient) -> object:
        return self._key.private_key

    def get_client_algorithm(self, client: DemoClient) -> str:
        return self._key.alg

    def get_encode_header(self, client: DemoClient) -> dict[str, str]:
        return {"alg": self._key.alg, "kid": self._key.kid, "typ": "JWT"}

    def get_client_claims(self, client: DemoClient) -> dict[str, object]:
        # Authlib would otherwise stamp iat/exp from time.time(), not the injected clock.
        now = int(self._clock())
        return {
            "iss": self._issuer,
            "aud": client.client_id,
            "azp": client.client_id,
            "iat": now,
            "exp": now + self._lifetime,
        }

    def get_authorization_code_claims(self, authorization_code: IssuedCode) -> dict[str, object]:
        claims: dict[str, object] = super().get_authorization_code_claims(authorization_code)
        proofed = verified_claims(
            authorization_code.persona,
            authorization_code.claims.id_token,
            auth_time=authorization_code.auth_time,
        )
        if proofed is not None:
            claims["verified_claims"] = proofed
        return claims

    def generate_user_info(self, user: Persona, scope: str) -> dict[str, object]:
        return standard_claims(user, scope)


class AccessTokenValidator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, store: DemoStore) -> None:
        super().__init__()
        self._store = store

    def authenticate_token(self, token_string: str) -> AccessGrant | None:
        return self._store.access_grant(token_string)
