"""The offline verifier: ``Verifier(...).verify(token, ...)`` returns claims or raises.

Order of checks: size before parsing; header shape, embedded keys, ``crit`` and ``typ``
before any key is looked up; the key's own algorithm before the signature; the signature
before any claim is trusted; then issuer, audience and times; then DPoP; then status.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import msgspec

from idsvc.jose.base64url import b64url_decode
from idsvc.jose.jws import verify_signature
from idsvc.verify.claims import TOKEN_TYPE, EligibilityClaims
from idsvc.verify.dpop import DPoPVerifier
from idsvc.verify.errors import (
    AlgorithmMismatch,
    BadSignature,
    DPoPRequired,
    EmbeddedKey,
    Expired,
    InvalidClaim,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    TokenTooLarge,
    UnknownKey,
    UnsupportedCritical,
    WrongAudience,
    WrongIssuer,
    WrongType,
)
from idsvc.verify.keys import JWKSource
from idsvc.verify.status import StatusListChecker

__all__ = ["MAX_TOKEN_BYTES", "StatusChecker", "Verifier"]

MAX_TOKEN_BYTES = 8 * 1024
_HEADER_CACHE_SIZE = 64
_UNSET = msgspec.UNSET


class StatusChecker(Protocol):
    """Looks a token's status up in its (cached) status list; raises TokenRevoked or
    TokenSuspended. ``idsvc.verify`` calls it for every token that has a ``status``."""

    def check(self, uri: str, idx: int) -> None: ...


class _Header(msgspec.Struct, frozen=True):
    alg: str | None = None
    kid: str | None = None
    typ: str | None = None
    # Present-or-not is all that matters for these: any value is refused.
    crit: object = _UNSET
    jwk: object = _UNSET
    jku: object = _UNSET
    x5u: object = _UNSET
    x5c: object = _UNSET


class _Registered(msgspec.Struct, frozen=True):
    """The claims checked one by one to say precisely what is wrong."""

    iss: object = None
    aud: object = None
    exp: object = None
    nbf: object = None
    iat: object = None


_header_decoder = msgspec.json.Decoder(_Header)
_claims_decoder = msgspec.json.Decoder(EligibilityClaims)
_registered_decoder = msgspec.json.Decoder(_Registered)


class Verifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: Mapping[str, object] | None = None,
        jwks_file: str | Path | None = None,
        jwks_url: str | None = None,
        clock: Callable[[], float] = time.time,
        leeway: int = 30,
        jwks_refresh_interval: float = 60.0,
        jwks_max_stale: float = 86_400.0,
        fetch_timeout: float = 5.0,
        dpop_iat_window: float = 60.0,
        cache_size: int = 10_000,
        status_checker: StatusChecker | None = None,
        check_status: bool = True,
        status_max_stale: float = 3600.0,
        fail_open_on_stale_status: bool = False,
        status_list_dir: str | Path | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._clock = clock
        self._leeway = leeway
        self._keys = JWKSource(
            jwks=jwks,
            jwks_file=jwks_file,
            jwks_url=jwks_url,
            clock=clock,
            refresh_interval=jwks_refresh_interval,
            max_stale=jwks_max_stale,
            fetch_timeout=fetch_timeout,
        )
        self._dpop = DPoPVerifier(clock=clock, iat_window=dpop_iat_window)
        # Tokens naming a status list are checked against it unless the operator turned
        # that off; a custom checker (tests, other transports) replaces the built-in one.
        self._status: StatusChecker | None = status_checker
        if status_checker is None and check_status:
            self._status = StatusListChecker(
                issuer=issuer,
                keys=self._keys,
                clock=clock,
                max_stale=status_max_stale,
                fail_open_on_stale=fail_open_on_stale_status,
                list_dir=status_list_dir,
                fetch_timeout=fetch_timeout,
                leeway=leeway,
            )
        # token -> (claims, kid): the kid is re-checked on every hit, so a key dropped from
        # the JWKS (emergency rotation) stops its cached tokens at the next JWKS refresh.
        self._cache: dict[str, tuple[EligibilityClaims, str]] = {}
        self._cache_size = cache_size
        self._headers: dict[str, _Header] = {}

    def jwks_age(self) -> float:
        """Seconds since the issuer's keys were loaded; inf before the first load."""
        return self._keys.age()

    def status_list_age(self) -> float:
        """Seconds since the oldest cached status list was fetched (0 with none)."""
        return self._status.age() if isinstance(self._status, StatusListChecker) else 0.0

    def load_keys(self) -> None:
        """Fetch the issuer's keys now if due (e.g. at start); never raises."""
        self._keys.load()

    def verify(
        self,
        token: str,
        *,
        dpop_proof: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> EligibilityClaims:
        cached = self._cache.get(token)
        now = self._clock()
        if cached is not None and now < cached[0].exp + self._leeway:
            claims, kid = cached
            self._keys.get(kid)  # raises UnknownKey once the key left the JWKS
        else:
            if cached is not None:
                del self._cache[token]
            claims, kid = self._verify_uncached(token, now)
            self._remember(token, claims, kid)
        if claims.cnf is not None:
            # Bound tokens need a fresh proof on every request, cached or not.
            if dpop_proof is None or method is None or url is None:
                raise DPoPRequired("this token is DPoP-bound: send a DPoP proof")
            self._dpop.verify(dpop_proof, jkt=claims.cnf.jkt, token=token, method=method, url=url)
        # A token without cnf ignores any proof: the proof adds nothing a bearer token lacks.
        if claims.status is not None and self._status is not None:
            self._status.check(claims.status.status_list.uri, claims.status.status_list.idx)
        return claims

    def _remember(self, token: str, claims: EligibilityClaims, kid: str) -> None:
        if self._cache_size <= 0:
            return
        if len(self._cache) >= self._cache_size:
            # Evict the oldest entry (dicts keep insertion order).
            self._cache.pop(next(iter(self._cache)))
        self._cache[token] = (claims, kid)

    def _verify_uncached(self, token: str, now: float) -> tuple[EligibilityClaims, str]:
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenTooLarge(f"over {MAX_TOKEN_BYTES} bytes")
        signing_input, _, signature_segment = token.rpartition(".")
        header_segment, dot, payload_segment = signing_input.partition(".")
        if not dot or "." in payload_segment:
            raise MalformedToken("not a compact JWS")
        try:
            header = self._header(header_segment)
            payload = b64url_decode(payload_segment)
            signature = b64url_decode(signature_segment)
        except (ValueError, msgspec.DecodeError):
            raise MalformedToken("header or segments do not decode") from None
        assert header.kid is not None
        key = self._keys.get(header.kid)
        if header.alg != key.alg:
            raise AlgorithmMismatch(f"key {header.kid[:64]!r} signs with {key.alg}")
        if not verify_signature(key.alg, key.key, signing_input.encode("ascii"), signature):
            raise BadSignature("signature does not verify")
        return self._check_claims(payload, now), header.kid

    def _header(self, segment: str) -> _Header:
        """Tokens of one key share one header segment: decode and check each distinct one
        once. Only headers that passed the checks are remembered."""
        header = self._headers.get(segment)
        if header is None:
            header = _header_decoder.decode(b64url_decode(segment))
            self._check_header(header)
            if len(self._headers) >= _HEADER_CACHE_SIZE:
                self._headers.clear()
            self._headers[segment] = header
        return header

    @staticmethod
    def _check_header(header: _Header) -> None:
        if any(v is not _UNSET for v in (header.jwk, header.jku, header.x5u, header.x5c)):
            # Keys named by the token itself are never trusted: the gateway's JWKS is.
            raise EmbeddedKey("jwk, jku, x5u and x5c headers are refused")
        if header.crit is not _UNSET:
            raise UnsupportedCritical("no critical extensions are understood")
        if header.typ != TOKEN_TYPE:
            # Stops other JWTs signed by the same issuer (e.g. status lists) being used
            # as eligibility tokens.
            raise WrongType(f"typ must be {TOKEN_TYPE}")
        if header.alg is None:
            raise AlgorithmMismatch("alg missing")
        if not header.kid:
            raise UnknownKey("kid missing")

    def _check_claims(self, payload: bytes, now: float) -> EligibilityClaims:
        try:
            claims = _claims_decoder.decode(payload)
        except msgspec.DecodeError:
            self._explain(payload, now)
            raise
        if claims.iss != self.issuer:
            raise WrongIssuer("iss is not the configured issuer")
        if claims.aud != self.audience:
            raise WrongAudience("aud is not this gateway's audience")
        if now >= claims.exp + self._leeway:
            raise Expired("exp has passed")
        if claims.nbf > now + self._leeway or claims.iat > now + self._leeway:
            raise NotYetValid("nbf or iat is in the future")
        return claims

    def _explain(self, payload: bytes, now: float) -> None:
        """The payload did not fit the claim set: raise the most precise error we can."""
        try:
            registered = _registered_decoder.decode(payload)
        except msgspec.DecodeError:
            raise MalformedToken("payload is not a JSON object") from None
        if registered.iss != self.issuer:
            raise WrongIssuer("iss is not the configured issuer")
        if registered.aud != self.audience:
            # A list, even one holding our audience, is refused: the contract is one aud.
            raise WrongAudience("aud must be this gateway's audience, as a string")
        if registered.exp is None:
            raise MissingClaim("exp missing")
        if not isinstance(registered.exp, int) or isinstance(registered.exp, bool):
            raise InvalidClaim("exp must be an integer")
        if now >= registered.exp + self._leeway:
            raise Expired("exp has passed")
        raise InvalidClaim("claims do not match the eligibility token contract")
