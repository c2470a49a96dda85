"""Who is calling the token endpoint: client authentication (RFC 6749 §2.3).

Public clients name themselves with ``client_id`` and prove nothing: what they get is bound
to their DPoP key instead. Confidential clients use ``client_secret_basic`` or
``private_key_jwt`` (RFC 7523 §2.2). Every failure is the same ``invalid_client`` to the
caller; the reason goes to the log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from urllib.parse import unquote

import msgspec
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from idsvc.config.oauth import CLI_CLIENT_ID, DEVICE_CODE, REFRESH_TOKEN, ClientSettings
from idsvc.constant_time import same_secret

__all__ = [
    "ASSERTION_ALGORITHMS",
    "CONFIDENTIAL_AUTH_METHODS",
    "AssertionId",
    "AuthenticatedClient",
    "ClientAuthError",
    "ClientRegistry",
]

_log = logging.getLogger("idsvc.oauth")
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA")
CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "private_key_jwt")
# Assertions must be short-lived, so a jti only needs remembering this long.
_MAX_ASSERTION_LIFETIME = 300


class ClientAuthError(Exception):
    """invalid_client; the message is for the log only."""


class _SeenAssertions:
    """jti of accepted client assertions until they expire: an assertion is single use.
    This instance's memory; the token endpoint also asks the store every instance shares
    (idsvc.replay), so a replay to another instance is refused as well."""

    def __init__(self, clock: Callable[[], float], max_entries: int = 100_000) -> None:
        self._clock = clock
        self._seen: dict[tuple[str, str], float] = {}
        self._max = max_entries

    def add(self, client_id: str, jti: str, expires: float) -> None:
        now = self._clock()
        if len(self._seen) >= self._max:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
            if len(self._seen) >= self._max:
                raise ClientAuthError("assertion replay cache full")  # fail closed
        key = (client_id, jti)
        if self._seen.get(key, 0) > now:
            raise ClientAuthError("client assertion replayed")
        self._seen[key] = expires


class AssertionId(msgspec.Struct, frozen=True, kw_only=True):
    """A verified client assertion's ``jti`` and ``exp``, for the shared replay store."""

    jti: str
    exp: int


class AuthenticatedClient(msgspec.Struct, frozen=True, kw_only=True):
    client: ClientSettings
    assertion: AssertionId | None = None


class ClientRegistry:
    def __init__(
        self,
        clients: tuple[ClientSettings, ...],
        *,
        cli_client: bool,
        token_endpoint: str,
        issuer: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clients = {c.id: c for c in clients}
        if cli_client and CLI_CLIENT_ID not in self.clients:
            self.clients[CLI_CLIENT_ID] = ClientSettings(
                id=CLI_CLIENT_ID,
                name="idsvc command line",
                grant_types=(DEVICE_CODE, REFRESH_TOKEN),
            )
        self._audiences = {token_endpoint, issuer}
        self._clock = clock
        self._seen = _SeenAssertions(clock)

    def authenticate(
        self, form: Mapping[str, str], authorization: str | None
    ) -> AuthenticatedClient:
        if authorization is not None and authorization[:6].lower() == "basic ":
            return AuthenticatedClient(client=self._basic(authorization[6:], form))
        if form.get("client_assertion_type") is not None:
            return self._assertion(form)
        client = self.clients.get(form.get("client_id", ""))
        if client is None:
            raise ClientAuthError("unknown client")
        if client.auth_method != "none":
            raise ClientAuthError("confidential client without credentials")
        return AuthenticatedClient(client=client)

    def _basic(self, encoded: str, form: Mapping[str, str]) -> ClientSettings:
        try:
            # ValueError: b64decode of a str with non-ASCII characters.
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, ValueError):
            raise ClientAuthError("malformed basic credentials") from None
        raw_id, sep, raw_secret = decoded.partition(":")
        if not sep:
            raise ClientAuthError("malformed basic credentials")
        # RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
        client_id, secret = unquote(raw_id), unquote(raw_secret)
        client = self.clients.get(client_id)
        if client is None or client.auth_method != "client_secret_basic":
            raise ClientAuthError("client does not use client_secret_basic")
        if form.get("client_id", client_id) != client_id:
            raise ClientAuthError("client_id in the body differs from the credentials")
        presented = hashlib.sha256(secret.encode()).hexdigest()
        assert client.secret_sha256 is not None  # checked when the settings loaded
        if not same_secret(presented, client.secret_sha256):
            raise ClientAuthError("wrong client secret")
        return client

    def _assertion(self, form: Mapping[str, str]) -> AuthenticatedClient:
        if form.get("client_assertion_type") != JWT_BEARER:
            raise ClientAuthError("unsupported client_assertion_type")
        assertion = form.get("client_assertion", "")
        try:
            claimed = _unverified_issuer(assertion)
        except ValueError as exc:
            raise ClientAuthError(f"malformed client assertion: {exc}") from None
        client = self.clients.get(claimed)
        if client is None or client.auth_method != "private_key_jwt" or client.jwks is None:
            raise ClientAuthError("client does not use private_key_jwt")
        if form.get("client_id", claimed) != claimed:
            raise ClientAuthError("client_id differs from the assertion's issuer")
        try:
            token = jwt.decode(
                assertion,
                KeySet.import_key_set(client.jwks),  # type: ignore[arg-type]
                registry=JWSRegistry(algorithms=list(ASSERTION_ALGORITHMS)),
            )
        except (JoseError, ValueError, TypeError) as exc:
            raise ClientAuthError(f"client assertion signature: {exc}") from None
        claims = token.claims
        now = self._clock()
        audiences = claims.get("aud")
        audience_list = audiences if isinstance(audiences, list) else [audiences]
        exp, jti = claims.get("exp"), claims.get("jti")
        if claims.get("iss") != client.id or claims.get("sub") != client.id:
            raise ClientAuthError("assertion iss and sub must be the client id")
        if not self._audiences & {a for a in audience_list if isinstance(a, str)}:
            raise ClientAuthError("assertion aud is neither the token endpoint nor the issuer")
        if not isinstance(exp, int) or exp <= now or exp > now + _MAX_ASSERTION_LIFETIME:
            raise ClientAuthError("assertion expired or too long-lived")
        if not isinstance(jti, str) or not 0 < len(jti) <= 256:
            raise ClientAuthError("assertion without jti")
        self._seen.add(client.id, jti, float(exp))
        # The caller also checks the shared store (assertion_replayed), so a replay to
        # another instance is refused too.
        return AuthenticatedClient(client=client, assertion=AssertionId(jti=jti, exp=exp))


def _unverified_issuer(assertion: str) -> str:
    """Which client the assertion claims to be from, to pick the keys to check it with."""
    parts = assertion.split(".")
    if len(parts) != 3 or len(assertion) > 8192:
        raise ValueError("not a compact JWS")
    padded = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        payload = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, binascii.Error, RecursionError):  # nesting: an attack, not JSON
        raise ValueError("undecodable payload") from None
    issuer = payload.get("iss") if isinstance(payload, dict) else None
    if not isinstance(issuer, str):
        raise ValueError("no iss")
    return issuer
