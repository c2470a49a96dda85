"""Upstream provider metadata and keys, fetched over HTTP and cached.

The metadata's ``issuer`` must equal the configured issuer exactly (OpenID Connect
Discovery §4.3): otherwise a compromised or mistyped discovery document could redirect
sign-in to another provider. The JWKS is refreshed when an ID token names an unknown
``kid``, at most once a minute, so a provider's key rotation needs no restart.
"""

from __future__ import annotations

import time

import httpx
import msgspec

from idsvc.config.providers import ProviderSettings

__all__ = ["ProviderDirectory", "ProviderMetadata", "ProviderUnavailable"]

_METADATA_TTL = 3600.0
_JWKS_MIN_REFRESH = 60.0
_MAX_DOCUMENT = 512 * 1024


class ProviderUnavailable(Exception):
    """The provider's metadata or keys could not be fetched or are inconsistent."""


class ProviderMetadata(msgspec.Struct, frozen=True, kw_only=True):
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    code_challenge_methods_supported: tuple[str, ...] = ()
    authorization_response_iss_parameter_supported: bool = False


class _Entry:
    def __init__(self, metadata: ProviderMetadata, fetched: float) -> None:
        self.metadata = metadata
        self.fetched = fetched
        self.jwks: dict[str, object] | None = None
        self.jwks_fetched = 0.0


class ProviderDirectory:
    def __init__(self, providers: tuple[ProviderSettings, ...], http: httpx.AsyncClient) -> None:
        self.providers = {p.id: p for p in providers}
        self._http = http
        self._entries: dict[str, _Entry] = {}

    async def _get_json(self, url: str) -> bytes:
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"cannot reach {url}: {type(exc).__name__}") from None
        if response.status_code != 200 or len(response.content) > _MAX_DOCUMENT:
            raise ProviderUnavailable(f"{url} answered {response.status_code}")
        return response.content

    async def metadata(self, provider: ProviderSettings) -> ProviderMetadata:
        entry = self._entries.get(provider.id)
        if entry is not None and time.monotonic() - entry.fetched < _METADATA_TTL:
            return entry.metadata
        url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            metadata = msgspec.json.decode(await self._get_json(url), type=ProviderMetadata)
        except msgspec.DecodeError as exc:
            raise ProviderUnavailable(f"bad discovery document from {provider.id}: {exc}") from None
        if metadata.issuer != provider.issuer:
            raise ProviderUnavailable(
                f"provider {provider.id} says its issuer is {metadata.issuer!r}, "
                f"configured {provider.issuer!r}"
            )
        if "S256" not in metadata.code_challenge_methods_supported:
            raise ProviderUnavailable(f"provider {provider.id} does not support PKCE S256")
        self._entries[provider.id] = _Entry(metadata, time.monotonic())
        return metadata

    async def jwks(self, provider: ProviderSettings, *, refresh: bool = False) -> dict[str, object]:
        metadata = await self.metadata(provider)
        entry = self._entries[provider.id]
        stale = refresh and time.monotonic() - entry.jwks_fetched >= _JWKS_MIN_REFRESH
        if entry.jwks is None or stale:
            try:
                jwks = msgspec.json.decode(
                    await self._get_json(metadata.jwks_uri), type=dict[str, object]
                )
            except msgspec.DecodeError:
                raise ProviderUnavailable(f"bad JWKS from {provider.id}") from None
            entry.jwks = jwks
            entry.jwks_fetched = time.monotonic()
        assert entry.jwks is not None
        return entry.jwks
