"""DPoP proof checks (RFC 9449 §4.3) for a token bound with ``cnf.jkt``.

Each check exists because skipping it lets a stolen token or proof be reused: the
thumbprint ties the proof to the token's key, ``htm``/``htu`` to this request, ``iat`` and
``jti`` to this moment, and ``ath`` to this token.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import msgspec

from idsvc.jose.base64url import b64url_decode, b64url_encode
from idsvc.jose.jwk import ALGORITHMS, PRIVATE_MEMBERS, PublicKey, key_from_public_jwk, thumbprint
from idsvc.jose.jws import verify_signature
from idsvc.verify.errors import (
    DPoPBadKey,
    DPoPBadSignature,
    DPoPKeyMismatch,
    DPoPMalformed,
    DPoPNonceRequired,
    DPoPReplayed,
    DPoPStale,
    DPoPWrongMethod,
    DPoPWrongTokenHash,
    DPoPWrongType,
    DPoPWrongUrl,
)

__all__ = [
    "DPoPVerifier",
    "ProofIdentity",
    "access_token_hash",
    "normalize_htu",
    "proof_identity",
    "single_proof",
]

_MAX_PROOF_BYTES = 8 * 1024
_KTY_FOR_ALG = {"ES256": "EC", "EdDSA": "OKP", "RS256": "RSA"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _ProofHeader(msgspec.Struct, frozen=True):
    typ: str | None = None
    alg: str | None = None
    jwk: dict[str, object] | None = None


class _ProofClaims(msgspec.Struct, frozen=True):
    htm: str | None = None
    htu: str | None = None
    iat: int | None = None
    jti: str | None = None
    ath: str | None = None
    nonce: str | None = None


def single_proof(values: Sequence[str]) -> str | None:
    """The request's one DPoP proof, or None. RFC 9449 §4.3 (check 1): a request carries at
    most one DPoP header. Two are refused rather than one picked: which one a parser keeps
    differs between proxies and frameworks, and that difference is what an attacker uses."""
    if len(values) > 1:
        raise DPoPMalformed("more than one DPoP header")
    return values[0] if values else None


class ProofIdentity(msgspec.Struct, frozen=True, kw_only=True):
    jti: str
    iat: float


def proof_identity(proof: str) -> ProofIdentity:
    """The ``jti`` and ``iat`` of a proof that already passed verification, for a replay
    store shared by several verifiers (the issuer's instances). Never a check by itself."""
    claims = msgspec.json.decode(b64url_decode(proof.split(".")[1]), type=_ProofClaims)
    # Both were checked present by the verification this follows.
    assert claims.jti is not None
    assert claims.iat is not None
    return ProofIdentity(jti=claims.jti, iat=float(claims.iat))


def access_token_hash(token: str) -> str:
    return b64url_encode(hashlib.sha256(token.encode("ascii")).digest())


def normalize_htu(url: str) -> str:
    """RFC 9449 §4.3: compare without query and fragment, per RFC 3986 §6.2.2-6.2.3
    (scheme and host case-insensitive, default port dropped, empty path is "/")."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DPoPWrongUrl("unparseable URL") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


@dataclass(frozen=True, slots=True)
class _CheckedHeader:
    alg: str
    key: PublicKey
    thumbprint: str


class _HeaderCache:
    """Proof headers already checked, by their exact base64url text. A client signs every
    proof with one key, so its header (typ, alg, jwk) repeats byte for byte; parsing the
    JWK into a key and hashing its thumbprint cost more than the signature check. Bounded:
    the oldest entry goes first."""

    def __init__(self, max_entries: int) -> None:
        self._checked: dict[str, _CheckedHeader] = {}
        self._max = max_entries
        self._lock = threading.Lock()  # gateways may verify from several threads

    def get(self, segment: str) -> _CheckedHeader | None:
        return self._checked.get(segment)

    def put(self, segment: str, checked: _CheckedHeader) -> None:
        if self._max <= 0:
            return
        with self._lock:
            if len(self._checked) >= self._max:
                # Insertion order: drop the oldest.
                self._checked.pop(next(iter(self._checked)))
            self._checked[segment] = checked


def _check_header(segment: str) -> _CheckedHeader:
    try:
        header = msgspec.json.decode(b64url_decode(segment), type=_ProofHeader)
    except (ValueError, msgspec.DecodeError):
        raise DPoPMalformed("undecodable proof") from None
    if header.typ != "dpop+jwt":
        raise DPoPWrongType("typ must be dpop+jwt")
    jwk = header.jwk
    if header.alg not in ALGORITHMS or jwk is None:
        raise DPoPBadKey("proof needs an allowed alg and a jwk header")
    if PRIVATE_MEMBERS & set(jwk) or jwk.get("kty") != _KTY_FOR_ALG[header.alg]:
        raise DPoPBadKey("the jwk must be a public key of the alg's type")
    try:
        key = key_from_public_jwk(jwk)
        key_thumbprint = thumbprint(jwk)
    except (ValueError, TypeError, KeyError):
        raise DPoPBadKey("unusable jwk") from None
    return _CheckedHeader(alg=header.alg, key=key, thumbprint=key_thumbprint)


class _ReplayCache:
    """Proof ids seen within the acceptance window, per key. Bounded: when full of
    unexpired entries it refuses new proofs (fails closed) instead of forgetting ids,
    because forgetting an id is exactly what a replay needs."""

    def __init__(self, max_entries: int) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._max = max_entries
        self._lock = threading.Lock()

    def add(self, jkt: str, jti: str, *, expires: float, now: float) -> None:
        key = (jkt, jti)
        with self._lock:
            if key in self._seen and self._seen[key] > now:
                raise DPoPReplayed("this proof was already used")
            if len(self._seen) >= self._max:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
                if len(self._seen) >= self._max:
                    raise DPoPReplayed("replay cache full; refusing proofs until it drains")
            self._seen[key] = expires


class DPoPVerifier:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        iat_window: float = 60.0,
        max_replay_entries: int = 100_000,
        max_cached_headers: int = 10_000,
    ) -> None:
        self._clock = clock
        self._window = iat_window
        self._replay = _ReplayCache(max_replay_entries)
        self._headers = _HeaderCache(max_cached_headers)

    @property
    def iat_window(self) -> float:
        """How long around its ``iat`` a proof is accepted (and so must be remembered)."""
        return self._window

    def verify(self, proof: str, *, jkt: str, token: str, method: str, url: str) -> None:
        """A proof presented with the token bound to ``jkt`` (at a resource server)."""
        self._verify(proof, jkt=jkt, token=token, method=method, url=url)

    def verify_for_issuance(
        self,
        proof: str,
        *,
        method: str,
        url: str,
        nonce_valid: Callable[[str | None], bool] | None = None,
    ) -> str:
        """A proof presented when asking for a token (RFC 9449 §5): no token yet, so no
        ``ath`` and no expected key. Returns the key's thumbprint to bind the token to.
        With ``nonce_valid``, the proof's ``nonce`` must pass it (RFC 9449 §8)."""
        return self._verify(
            proof, jkt=None, token=None, method=method, url=url, nonce_valid=nonce_valid
        )

    def _verify(
        self,
        proof: str,
        *,
        jkt: str | None,
        token: str | None,
        method: str,
        url: str,
        nonce_valid: Callable[[str | None], bool] | None = None,
    ) -> str:
        if len(proof) > _MAX_PROOF_BYTES:
            raise DPoPMalformed("proof too large")
        segments = proof.split(".")
        if len(segments) != 3:
            raise DPoPMalformed("not a compact JWS")
        checked = self._headers.get(segments[0])
        if checked is None:
            checked = _check_header(segments[0])
            self._headers.put(segments[0], checked)
        try:
            claims = msgspec.json.decode(b64url_decode(segments[1]), type=_ProofClaims)
            signature = b64url_decode(segments[2])
        except (ValueError, msgspec.DecodeError):
            raise DPoPMalformed("undecodable proof") from None
        key_thumbprint = checked.thumbprint
        if jkt is not None and key_thumbprint != jkt:
            raise DPoPKeyMismatch("proof key is not the key the token is bound to")
        signing_input = f"{segments[0]}.{segments[1]}".encode("ascii")
        if not verify_signature(checked.alg, checked.key, signing_input, signature):
            raise DPoPBadSignature("proof signature does not verify")
        if nonce_valid is not None and not nonce_valid(claims.nonce):
            # Checked before the replay cache: the client retries with a fresh nonce and
            # a fresh jti, and this refused proof must not count as used.
            raise DPoPNonceRequired("the proof needs the server's current DPoP-Nonce")
        self._check_claims(claims, jkt=key_thumbprint, token=token, method=method, url=url)
        return key_thumbprint

    def _check_claims(
        self, claims: _ProofClaims, *, jkt: str, token: str | None, method: str, url: str
    ) -> None:
        if claims.htm is None or claims.htu is None or claims.iat is None or not claims.jti:
            raise DPoPMalformed("proof needs htm, htu, iat and jti")
        if len(claims.jti) > 256:
            raise DPoPMalformed("jti too long")
        if claims.htm != method:
            raise DPoPWrongMethod("proof is for another method")
        if normalize_htu(claims.htu) != normalize_htu(url):
            raise DPoPWrongUrl("proof is for another URL")
        now = self._clock()
        if abs(now - claims.iat) > self._window:
            raise DPoPStale("proof iat outside the acceptance window")
        if token is None:
            if claims.ath is not None:
                raise DPoPWrongTokenHash("a proof for a token request carries no ath")
        elif claims.ath is None or claims.ath != access_token_hash(token):
            raise DPoPWrongTokenHash("proof ath does not match the token")
        # Last, so a proof that fails another check does not burn its jti.
        self._replay.add(jkt, claims.jti, expires=claims.iat + self._window, now=now)
