"""Where the verifier's public keys come from: a dict, a file, or the issuer's JWKS URL.

Keys are parsed once per fetch into ``(alg, public key)`` pairs, so the hot path is a dict
lookup. A URL is re-fetched when its ``Cache-Control: max-age`` runs out, and on an unknown
``kid`` at most once per ``refresh_interval`` (a token naming random kids must not turn
the gateway into a flood of requests to the issuer). When the issuer cannot be reached the
last good set is served for up to ``max_stale`` seconds, then verification fails closed.
"""

from __future__ import annotations

import contextlib
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

import msgspec

from idsvc.jose.jwk import ALGORITHMS, PRIVATE_MEMBERS, PublicKey, key_from_public_jwk
from idsvc.verify.errors import JWKSUnavailable, UnknownKey

__all__ = ["JWKSource", "VerificationKey", "parse_jwks"]

_MAX_JWKS_BYTES = 1024 * 1024
_DEFAULT_MAX_AGE = 300.0
_MAX_MAX_AGE = 86_400.0
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_EXPECTED_KTY = {"ES256": "EC", "EdDSA": "OKP", "RS256": "RSA"}


class VerificationKey(msgspec.Struct, frozen=True):
    alg: str
    key: PublicKey


def parse_jwks(document: object) -> dict[str, VerificationKey]:
    """Usable signing keys by kid. Keys that could be misused are left out, not trusted:
    no ``alg`` (the algorithm must come from the key), an algorithm outside the allow-list,
    ``use`` other than ``sig``, private members, or a key type that does not match ``alg``."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise JWKSUnavailable("the JWKS is not an object with a keys array")
    keys: dict[str, VerificationKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, Mapping):
            continue
        kid, alg = jwk.get("kid"), jwk.get("alg")
        if not isinstance(kid, str) or alg not in ALGORITHMS or jwk.get("use", "sig") != "sig":
            continue
        if PRIVATE_MEMBERS & set(jwk) or jwk.get("kty") != _EXPECTED_KTY[str(alg)]:
            continue
        try:
            keys[kid] = VerificationKey(str(alg), key_from_public_jwk(jwk))
        except (ValueError, TypeError):
            continue
    return keys


def _max_age(cache_control: str | None) -> float:
    match = _MAX_AGE.search(cache_control or "")
    return min(float(match.group(1)), _MAX_MAX_AGE) if match else _DEFAULT_MAX_AGE


class JWKSource:
    def __init__(
        self,
        *,
        jwks: Mapping[str, object] | None = None,
        jwks_file: str | Path | None = None,
        jwks_url: str | None = None,
        clock: Callable[[], float],
        refresh_interval: float = 60.0,
        max_stale: float = 86_400.0,
        fetch_timeout: float = 5.0,
    ) -> None:
        if sum(x is not None for x in (jwks, jwks_file, jwks_url)) != 1:
            raise ValueError("give exactly one of jwks, jwks_file, jwks_url")
        self._clock = clock
        self._file = Path(jwks_file) if jwks_file is not None else None
        self._url = jwks_url
        self._refresh_interval = refresh_interval
        self._max_stale = max_stale
        self._timeout = fetch_timeout
        self._lock = threading.Lock()
        self._keys: dict[str, VerificationKey] = {}
        self._fetched_at = float("-inf")  # last successful fetch
        self._expires_at = float("-inf")  # when the cached set should be re-fetched
        self._attempted_at = float("-inf")  # last fetch attempt, for throttling
        if jwks is not None:
            self._keys = parse_jwks(jwks)
            self._expires_at = float("inf")
            self._fetched_at = clock()

    def get(self, kid: str) -> VerificationKey:
        now = self._clock()
        if now >= self._expires_at:
            self._refresh(now, forced=False)
        key = self._keys.get(kid)
        if key is None:
            # An unknown kid may be a key published since our last fetch.
            if self._url is not None or self._file is not None:
                self._refresh(now, forced=True)
                key = self._keys.get(kid)
            if key is None:
                raise UnknownKey(f"no key with kid {kid[:64]!r}")
        return key

    def age(self) -> float:
        """Seconds since the key set was last loaded (inf: never; 0 for a fixed set)."""
        return max(0.0, self._clock() - self._fetched_at)

    def load(self) -> None:
        """Load the key set now if it is due (at start, so the first request waits for
        nothing). A failure is not raised here: requests fail closed on their own."""
        now = self._clock()
        if now >= self._expires_at:
            with contextlib.suppress(JWKSUnavailable):
                self._refresh(now, forced=False)

    def _refresh(self, now: float, *, forced: bool) -> None:
        with self._lock:
            if forced and now - self._attempted_at < self._refresh_interval:
                return
            if not forced and now < self._expires_at:
                return  # another thread refreshed while we waited
            self._attempted_at = now
            try:
                document, max_age = self._load()
                keys = parse_jwks(document)
            except (OSError, ValueError, JWKSUnavailable, msgspec.DecodeError) as exc:
                if now - self._fetched_at > self._max_stale:
                    self._keys = {}
                    raise JWKSUnavailable(
                        f"cannot load the JWKS and the cached one is too old: {exc}"
                    ) from None
                # Serve the stale set; try again after the throttle interval.
                self._expires_at = now + min(self._refresh_interval, _DEFAULT_MAX_AGE)
                return
            self._keys = keys
            self._fetched_at = now
            self._expires_at = now + max_age

    def _load(self) -> tuple[object, float]:
        if self._file is not None:
            return msgspec.json.decode(self._file.read_bytes()), _DEFAULT_MAX_AGE
        assert self._url is not None
        request = urllib.request.Request(self._url, headers={"Accept": "application/json"})  # noqa: S310 (the operator's issuer URL)
        with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
            body = response.read(_MAX_JWKS_BYTES + 1)
            if len(body) > _MAX_JWKS_BYTES:
                raise ValueError("JWKS larger than 1 MiB")
            return msgspec.json.decode(body), _max_age(response.headers.get("Cache-Control"))
