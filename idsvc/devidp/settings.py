"""Settings of the demo OpenID Provider: its issuer, its registered clients, lifetimes.

The settings are built in code by ``idsvc dev`` (and by tests): ``clock`` is a callable, so
the struct is not meant to be decoded from a file. Checks run in ``__post_init__`` because
msgspec applies ``Meta`` bounds only when decoding, and a bad value should stop the demo at
start with a message that names the field, not fail on the first sign-in.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit

import msgspec
from authlib.common.security import is_secure_transport

__all__ = ["Clock", "DemoClient", "DemoIdPSettings"]

# Seconds since the epoch, like time.time(); tests pass a clock they move by hand.
Clock = Callable[[], float]

SUPPORTED_SCOPES = ("openid", "email", "profile")
AuthMethod = Literal["client_secret_basic", "client_secret_post"]


class DemoClient(msgspec.Struct, frozen=True, kw_only=True):
    """A registered relying party.

    Besides being configuration, this struct is the client model Authlib's server asks
    about: the ``get_*``/``check_*`` methods are Authlib's ``ClientMixin`` protocol.
    """

    client_id: str
    client_secret: str
    # Compared by exact string equality: no prefix, wildcard or port leniency.
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: AuthMethod = "client_secret_basic"  # noqa: S105  # a method name

    def __post_init__(self) -> None:
        name = f"devidp.clients[{self.client_id!r}]"
        if not self.client_id or len(self.client_id) > 255:
            raise ValueError(f"{name}.client_id: 1 to 255 characters")
        if len(self.client_secret) < 16:
            raise ValueError(f"{name}.client_secret: at least 16 characters")
        if not self.redirect_uris:
            raise ValueError(f"{name}.redirect_uris: at least one")
        for uri in self.redirect_uris:
            parts = urlsplit(uri)
            # RFC 6749 §3.1.2: absolute, and without a fragment.
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
                raise ValueError(f"{name}.redirect_uris: {uri!r} is not an absolute http(s) URI")

    # --- Authlib ClientMixin protocol -------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        # OpenID Connect requires redirect_uri in every authorization request; having no
        # default makes Authlib refuse a request without one.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        # OIDC Core §3.1.2.1: scope values that are not understood SHOULD be ignored.
        requested = (scope or "").split()
        return " ".join(s for s in requested if s in SUPPORTED_SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(
            self.client_secret.encode("utf-8"), client_secret.encode("utf-8")
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # Each client authenticates one way only: the method it registered.
        return endpoint == "token" and method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class DemoIdPSettings(msgspec.Struct, frozen=True, kw_only=True):
    # Every URL the provider publishes derives from the issuer, so the app works on its
    # own port ("http://127.0.0.1:9000") or mounted under a prefix ("http://.../demo-idp").
    issuer: str
    clients: tuple[DemoClient, ...]
    # PEM of an EC P-256 (ES256) or RSA (RS256) private key; None generates an ES256 key
    # at start, so ID tokens from an earlier run stop verifying, as they should.
    signing_key: str | None = None
    clock: Clock = time.time
    id_token_lifetime: int = 300
    access_token_lifetime: int = 300
    code_lifetime: int = 60
    # How long the persona page may stay open before its transaction expires.
    transaction_lifetime: int = 600
    # Most entries each in-memory table (transactions, codes, tokens, nonces) keeps.
    capacity: int = 1000

    def __post_init__(self) -> None:
        parts = urlsplit(self.issuer)
        # Authlib refuses requests whose URL is neither https nor loopback http; checking
        # the issuer here turns that into one clear error at start.
        if not is_secure_transport(self.issuer) or parts.query or parts.fragment:
            raise ValueError(
                "devidp.issuer: an https URL, or http on a loopback host, without query "
                f"or fragment; got {self.issuer!r}"
            )
        if not self.clients:
            raise ValueError("devidp.clients: at least one client")
        client_ids = [client.client_id for client in self.clients]
        if len(set(client_ids)) != len(client_ids):
            raise ValueError("devidp.clients: client_id values must be unique")
        for field in ("id_token_lifetime", "access_token_lifetime", "transaction_lifetime"):
            if not 1 <= getattr(self, field) <= 86_400:
                raise ValueError(f"devidp.{field}: 1 to 86400 seconds")
        # RFC 6749 §4.1.2 recommends at most ten minutes for an authorization code.
        if not 1 <= self.code_lifetime <= 600:
            raise ValueError("devidp.code_lifetime: 1 to 600 seconds")
        if not 1 <= self.capacity <= 1_000_000:
            raise ValueError("devidp.capacity: 1 to 1000000")

    @property
    def base_url(self) -> str:
        return self.issuer.rstrip("/")
