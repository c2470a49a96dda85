"""The device flow and token refresh, from the client's side (RFC 8628, RFC 9449)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

import httpx
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from idsvc.client.store import CachedToken, Credentials, CredentialStore
from idsvc.jose.jwk import public_jwk_from_key
from idsvc.jose.jws import sign_compact
from idsvc.verify.dpop import access_token_hash

__all__ = ["ClientError", "IdsvcClient", "LoginRequired"]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# Reuse a cached token only while it has at least this long left.
MIN_REMAINING = 30.0


class ClientError(Exception):
    """The service refused; ``error`` is the OAuth error and ``reasons`` why, if denied."""

    def __init__(self, error: str, description: str, reasons: list[str] | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.reasons = reasons or []


class LoginRequired(ClientError):
    def __init__(self, description: str) -> None:
        super().__init__("login_required", description)


class _Metadata(msgspec.Struct, frozen=True):
    token_endpoint: str
    device_authorization_endpoint: str


class IdsvcClient:
    def __init__(
        self,
        issuer: str,
        *,
        client_id: str = "idsvc-cli",
        store: CredentialStore | None = None,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.store = store or CredentialStore()
        self._http = http or httpx.Client(timeout=15.0)
        self._clock = clock
        self._sleep = sleep
        self._metadata: _Metadata | None = None

    def _endpoints(self) -> _Metadata:
        if self._metadata is None:
            response = self._http.get(f"{self.issuer}/.well-known/oauth-authorization-server")
            response.raise_for_status()
            self._metadata = msgspec.json.decode(response.content, type=_Metadata)
        return self._metadata

    @staticmethod
    def _key(credentials: Credentials) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_pem_private_key(credentials.dpop_key_pem.encode(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key

    def _new_credentials(self) -> Credentials:
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return Credentials(issuer=self.issuer, client_id=self.client_id, dpop_key_pem=pem)

    def _proof(
        self,
        credentials: Credentials,
        method: str,
        url: str,
        token: str | None,
        nonce: str | None = None,
    ) -> str:
        key = self._key(credentials)
        public = msgspec.to_builtins(public_jwk_from_key(key.public_key(), kid=None, alg="ES256"))
        jwk = {k: v for k, v in public.items() if k in ("kty", "crv", "x", "y")}
        claims: dict[str, object] = {
            "htm": method,
            "htu": url,
            "iat": int(self._clock()),
            "jti": secrets.token_urlsafe(16),
        }
        if token is not None:
            claims["ath"] = access_token_hash(token)
        if nonce is not None:
            claims["nonce"] = nonce
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}
        return sign_compact(header, msgspec.json.encode(claims), key, "ES256")

    def _post_token(self, credentials: Credentials, form: dict[str, str]) -> httpx.Response:
        url = self._endpoints().token_endpoint
        nonce: str | None = None
        for _attempt in range(2):
            response = self._http.post(
                url,
                data={"client_id": self.client_id, **form},
                headers={"DPoP": self._proof(credentials, "POST", url, None, nonce)},
            )
            # RFC 9449 §8: the server may ask once for its nonce.
            if (
                response.status_code == 400
                and response.headers.get("dpop-nonce")
                and _error(response)[0] == "use_dpop_nonce"
            ):
                nonce = response.headers["dpop-nonce"]
                continue
            return response
        return response

    def login(self, show: Callable[[str, str, str], None]) -> None:
        """Run the device flow; ``show(url, user_code, complete_url)`` tells the person
        where to approve. Returns once approved; raises ClientError if denied or expired."""
        credentials = self._new_credentials()
        started = self._http.post(
            self._endpoints().device_authorization_endpoint, data={"client_id": self.client_id}
        )
        if started.status_code != 200:
            raise ClientError(*_error(started))
        device = started.json()
        show(device["verification_uri"], device["user_code"], device["verification_uri_complete"])
        interval = float(device["interval"])
        deadline = self._clock() + float(device["expires_in"])
        while self._clock() < deadline:
            self._sleep(interval)
            response = self._post_token(
                credentials, {"grant_type": DEVICE_GRANT, "device_code": device["device_code"]}
            )
            if response.status_code == 200:
                credentials.refresh_token = response.json()["refresh_token"]
                self.store.save(credentials)
                return
            error, description, reasons = _error(response)
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                interval += 5
                continue
            raise ClientError(error, description, reasons)
        raise ClientError("expired_token", "the code expired before it was approved")

    def token(self, audience: str) -> CachedToken:
        """A token for ``audience``: the cached one while it has time left, else a fresh
        one through the refresh token (which rotates, so the new one is stored)."""
        credentials = self.store.load(self.issuer)
        if credentials is None or credentials.refresh_token is None:
            raise LoginRequired(f"run `idsvc login --issuer {self.issuer}` first")
        cached = credentials.tokens.get(audience)
        if cached is not None and cached.expires_at - self._clock() > MIN_REMAINING:
            return cached
        response = self._post_token(
            credentials,
            {
                "grant_type": "refresh_token",
                "refresh_token": credentials.refresh_token,
                "resource": audience,
            },
        )
        if response.status_code != 200:
            error, description, reasons = _error(response)
            if error == "invalid_grant":
                credentials.refresh_token = None
                self.store.save(credentials)
                raise LoginRequired("the sign-in ended or was revoked: log in again")
            raise ClientError(error, description, reasons)
        body = response.json()
        fresh = CachedToken(
            access_token=body["access_token"],
            token_type=body["token_type"],
            expires_at=self._clock() + float(body["expires_in"]),
        )
        credentials.refresh_token = body["refresh_token"]
        credentials.tokens = {
            aud: t for aud, t in credentials.tokens.items() if t.expires_at > self._clock()
        } | {audience: fresh}
        self.store.save(credentials)
        return fresh

    def proof(self, method: str, url: str, token: str) -> str:
        """A DPoP proof for one request to a resource server with ``token``."""
        credentials = self.store.load(self.issuer)
        if credentials is None:
            raise LoginRequired(f"run `idsvc login --issuer {self.issuer}` first")
        return self._proof(credentials, method, url, token)


def _error(response: httpx.Response) -> tuple[str, str, list[str]]:
    try:
        body = response.json()
    except ValueError:
        return "server_error", f"HTTP {response.status_code}", []
    return (
        str(body.get("error", "server_error")),
        str(body.get("error_description") or body.get("detail") or ""),
        [str(r) for r in body.get("reasons", [])],
    )
