"""``[oauth]`` and ``[[clients]]``: who may ask the token endpoint for what."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = [
    "CLI_CLIENT_ID",
    "DEVICE_CODE",
    "GRANT_TYPES",
    "REFRESH_TOKEN",
    "TOKEN_EXCHANGE",
    "ClientSettings",
    "OAuthSettings",
]

GrantType = Literal[
    "urn:ietf:params:oauth:grant-type:device_code",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:token-exchange",
]
DEVICE_CODE: GrantType = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_TOKEN: GrantType = "refresh_token"  # noqa: S105 (a grant type name)
TOKEN_EXCHANGE: GrantType = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
GRANT_TYPES: tuple[GrantType, ...] = (DEVICE_CODE, REFRESH_TOKEN, TOKEN_EXCHANGE)
# The public client `idsvc login` uses; present unless [oauth] cli_client = false.
CLI_CLIENT_ID = "idsvc-cli"

ClientId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,128}$")]
Audience = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class ClientSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: ClientId
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    # Public clients (CLIs, SDKs on people's machines) hold no secret: their refresh tokens
    # are bound to their DPoP key instead. Confidential clients authenticate.
    type: Literal["public", "confidential"] = "public"
    auth_method: Literal["none", "client_secret_basic", "private_key_jwt"] = "none"
    # client_secret_basic: the SHA-256 (hex) of the secret, never the secret itself;
    # `idsvc clients secret` makes a secret and its hash.
    secret_sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")] | None = None
    # private_key_jwt: the client's public keys (a JWK Set).
    jwks: dict[str, list[dict[str, str]]] | None = None
    grant_types: tuple[GrantType, ...] = (DEVICE_CODE, REFRESH_TOKEN)
    # Resources it may ask tokens for; empty: any audience a policy protects.
    audiences: tuple[Audience, ...] = ()
    # Token exchange: upstream providers (by id) whose ID tokens this client may present,
    # and the `aud` those ID tokens must carry (the client's own id at that provider).
    exchange_providers: tuple[Annotated[str, msgspec.Meta(max_length=64)], ...] = ()
    exchange_audiences: tuple[Audience, ...] = ()
    # Token requests per minute for this client, across all its users.
    rate_limit: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 6000

    def __post_init__(self) -> None:
        where = f"clients.{self.id}"
        if self.type == "public":
            if self.auth_method != "none":
                raise ValueError(f"{where}.auth_method: a public client has no credentials")
            if TOKEN_EXCHANGE in self.grant_types:
                raise ValueError(f"{where}.grant_types: token exchange needs a confidential client")
        else:
            if self.auth_method == "none":
                raise ValueError(f"{where}.auth_method: a confidential client must authenticate")
            if self.auth_method == "client_secret_basic" and self.secret_sha256 is None:
                raise ValueError(f"{where}.secret_sha256: required for client_secret_basic")
            if self.auth_method == "private_key_jwt" and not (self.jwks or {}).get("keys"):
                raise ValueError(f"{where}.jwks: required for private_key_jwt")
        if TOKEN_EXCHANGE in self.grant_types and not (
            self.exchange_providers and self.exchange_audiences
        ):
            raise ValueError(
                f"{where}: token exchange needs exchange_providers and exchange_audiences"
            )


class OAuthSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    device_code_lifetime: Annotated[int, msgspec.Meta(ge=60, le=3600)] = 600
    # Seconds a device client waits between polls; polling faster gets slow_down.
    device_poll_interval: Annotated[int, msgspec.Meta(ge=1, le=60)] = 5
    # Each refresh token lives this long unless used (it rotates on use)...
    refresh_token_lifetime: Annotated[int, msgspec.Meta(ge=300, le=90 * 86_400)] = 14 * 86_400
    # ...and the grant behind them ends after this, however active: sign in again.
    grant_lifetime: Annotated[int, msgspec.Meta(ge=3600, le=365 * 86_400)] = 90 * 86_400
    # RFC 9449 §8: make token requests carry a server nonce (one more round trip, but a
    # proof made in advance by a stolen key is useless).
    require_dpop_nonce: bool = False
    cli_client: bool = True
