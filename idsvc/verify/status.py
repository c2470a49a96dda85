"""Status lists at the gateway: fetch, verify and cache each list a token names, and look
the token's index up (draft-ietf-oauth-status-list). A list is kept for its ``ttl`` and
then re-fetched (with If-None-Match); when it cannot be, the last good list is used up to
``max_stale`` seconds, then checks fail closed (``StatusUnavailable``) unless the gateway
operator chose to fail open. Only lists served by the token's own issuer are fetched: a
token cannot send the gateway to an arbitrary URL.

Lists only move forward: the newest ``iat`` accepted for each list is remembered for the
life of the process (after the list itself has expired or been dropped), and a list older
than it is refused as if the fetch had failed. Otherwise a stale cache, a replayed
response or an old file copied in would bring back a list in which a since-revoked token
is still valid.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path

import msgspec

from idsvc.jose.base64url import b64url_decode
from idsvc.jose.jws import verify_signature
from idsvc.verify.errors import (
    StatusUnavailable,
    TokenRevoked,
    TokenSuspended,
    VerificationError,
)
from idsvc.verify.keys import JWKSource

__all__ = ["StatusListChecker", "decode_status_list", "status_at"]

_MAX_LIST_BYTES = 4 * 1024 * 1024  # fetched, compressed
_MAX_STATUSES_BYTES = 16 * 1024 * 1024  # decompressed: 64 M two-bit slots
_MIN_TTL, _MAX_TTL = 10.0, 86_400.0
_RETRY_AFTER_FAILURE = 10.0
# Lists kept decoded (a list of 2^20 two-bit slots is 256 KiB). A token names one list, and
# only the issuer's few open lists have live tokens; the one refreshed longest ago (a
# retired list) gives way when a new list arrives.
_MAX_CACHED_LISTS = 64
# Newest iat per list, kept after the list is dropped. The issuer opens a list per 2^20
# tokens, so this is a safety bound, not one met in practice.
_MAX_REMEMBERED_LISTS = 65_536


class _Header(msgspec.Struct, frozen=True):
    alg: str | None = None
    kid: str | None = None
    typ: str | None = None


class _Bits(msgspec.Struct, frozen=True):
    bits: int
    lst: str


class _Claims(msgspec.Struct, frozen=True):
    sub: str
    # Required (as the draft requires it): without it a replayed list cannot be told
    # from a newer one.
    iat: int
    iss: str | None = None
    exp: int | None = None
    ttl: int | None = None
    status_list: _Bits | None = None


def decode_status_list(bits: int, lst: str) -> bytes:
    if bits not in (1, 2, 4, 8):
        raise ValueError("bits must be 1, 2, 4 or 8")
    decompressor = zlib.decompressobj()
    # Bounded, so a small compressed list cannot expand into gigabytes (a zip bomb).
    packed = decompressor.decompress(b64url_decode(lst), _MAX_STATUSES_BYTES)
    if decompressor.unconsumed_tail:
        raise ValueError("status list too large")
    return packed


def status_at(packed: bytes, bits: int, index: int) -> int:
    """The draft's bit order: index 0 is in the least significant bits of byte 0."""
    per_byte = 8 // bits
    position = index // per_byte
    if index < 0 or position >= len(packed):
        raise IndexError("index outside the list")
    return (packed[position] >> ((index % per_byte) * bits)) & ((1 << bits) - 1)


class _List(msgspec.Struct, kw_only=True):
    packed: bytes
    bits: int
    iat: int
    ttl: float
    fetched_at: float
    refresh_at: float
    etag: str | None


class StatusListChecker:
    def __init__(
        self,
        *,
        issuer: str,
        keys: JWKSource,
        clock: Callable[[], float],
        max_stale: float = 3600.0,
        fail_open_on_stale: bool = False,
        list_dir: str | Path | None = None,
        fetch_timeout: float = 5.0,
        leeway: float = 30.0,
    ) -> None:
        self._issuer = issuer.rstrip("/")
        self._prefix = self._issuer + "/status-lists/"
        self._keys = keys
        self._clock = clock
        self._max_stale = max_stale
        self._fail_open = fail_open_on_stale
        self._dir = Path(list_dir) if list_dir is not None else None
        self._timeout = fetch_timeout
        self._leeway = leeway
        self._lists: dict[str, _List] = {}
        # uri -> the newest iat accepted for it; outlives the entry in _lists.
        self._newest_iat: dict[str, int] = {}
        self._lock = threading.Lock()

    def age(self) -> float:
        """Seconds since the oldest cached list was fetched (0 with none), for metrics."""
        now = self._clock()
        # A snapshot: another thread may add or drop a list while we look.
        entries = tuple(self._lists.values())
        return max((now - entry.fetched_at for entry in entries), default=0.0)

    def check(self, uri: str, idx: int) -> None:
        if not uri.startswith(self._prefix) or len(uri) > 512:
            raise StatusUnavailable("the token's status list is not served by its issuer")
        entry = self._current(uri)
        if entry is None:
            return  # stale past its bound and the operator chose to fail open
        try:
            status = status_at(entry.packed, entry.bits, idx)
        except IndexError:
            raise StatusUnavailable("the token's index is outside its status list") from None
        if status == 1:
            raise TokenRevoked("the token was revoked")
        if status == 2:
            raise TokenSuspended("the token is suspended")
        if status != 0:
            # Application-specific values we do not know: refuse rather than guess.
            raise TokenRevoked(f"unknown status value {status}")

    def _current(self, uri: str) -> _List | None:
        now = self._clock()
        entry = self._lists.get(uri)
        if entry is not None and now < entry.refresh_at:
            return entry
        with self._lock:
            entry = self._lists.get(uri)
            if entry is not None and now < entry.refresh_at:
                return entry
            try:
                fresh = self._fetch(uri, entry, now)
            except (OSError, ValueError, VerificationError, msgspec.DecodeError, zlib.error) as exc:
                if entry is not None and now - entry.fetched_at <= self._max_stale:
                    entry.refresh_at = now + _RETRY_AFTER_FAILURE
                    return entry
                if self._fail_open:
                    return None
                raise StatusUnavailable(f"cannot load the status list: {exc}"[:200]) from None
            self._keep(uri, fresh)
            return fresh

    def _keep(self, uri: str, fresh: _List) -> None:
        """Cache the list and raise its newest iat (called under the lock)."""
        if uri not in self._lists and len(self._lists) >= _MAX_CACHED_LISTS:
            oldest = min(self._lists, key=lambda u: self._lists[u].fetched_at)
            del self._lists[oldest]  # its newest iat stays in _newest_iat
        self._lists[uri] = fresh
        if uri not in self._newest_iat and len(self._newest_iat) >= _MAX_REMEMBERED_LISTS:
            # Forget the list with the oldest newest-iat: the issuer's lists expire 2 ttl
            # after their iat, so copies at or below it have long expired on their own.
            del self._newest_iat[min(self._newest_iat, key=self._newest_iat.__getitem__)]
        # Never lowers it: _fetch refused anything older.
        self._newest_iat[uri] = fresh.iat

    def _fetch(self, uri: str, previous: _List | None, now: float) -> _List:
        if self._dir is not None:
            body: bytes | None = (self._dir / uri.rsplit("/", 1)[1]).read_bytes()
            etag = None
        else:
            body, etag = self._download(uri, previous.etag if previous else None)
        if body is None:  # 304: unchanged, still good for another ttl
            assert previous is not None
            previous.fetched_at = now
            previous.refresh_at = now + previous.ttl
            return previous
        bits, packed, iat, ttl = self._verify(body, uri, now)
        newest = self._newest_iat.get(uri)
        if newest is not None and iat < newest:
            # A stale cache, a replayed response or an old file: it may show as valid a
            # token that the newer list revoked. Refused like a failed fetch, so the list
            # held (if still usable) stays, else the check fails closed. An equal iat is
            # the same list fetched again.
            raise ValueError("status list is older than one already accepted")
        return _List(
            packed=packed,
            bits=bits,
            iat=iat,
            ttl=ttl,
            fetched_at=now,
            refresh_at=now + ttl,
            etag=etag,
        )

    def _download(self, uri: str, etag: str | None) -> tuple[bytes | None, str | None]:
        headers = {"Accept": "application/statuslist+jwt"}
        if etag:
            headers["If-None-Match"] = etag
        request = urllib.request.Request(uri, headers=headers)  # noqa: S310 (the issuer's own URL, checked above)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                body = response.read(_MAX_LIST_BYTES + 1)
                if len(body) > _MAX_LIST_BYTES:
                    raise ValueError("status list response too large")
                return body, response.headers.get("ETag")
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return None, etag
            raise

    def _verify(self, body: bytes, uri: str, now: float) -> tuple[int, bytes, int, float]:
        """The list's JWT, checked like a token: the issuer's key with its own algorithm,
        typ statuslist+jwt, sub its own URI, iss the issuer, issued, not expired. Returns
        bits, the packed statuses, iat and ttl."""
        segments = body.decode("ascii").strip().split(".")
        if len(segments) != 3:
            raise ValueError("not a compact JWS")
        header = msgspec.json.decode(b64url_decode(segments[0]), type=_Header)
        if header.typ != "statuslist+jwt" or header.kid is None:
            raise ValueError("not a statuslist+jwt")
        key = self._keys.get(header.kid)
        if header.alg != key.alg:
            raise ValueError("status list alg is not its key's")
        signing_input = f"{segments[0]}.{segments[1]}".encode("ascii")
        if not verify_signature(key.alg, key.key, signing_input, b64url_decode(segments[2])):
            raise ValueError("status list signature does not verify")
        claims = msgspec.json.decode(b64url_decode(segments[1]), type=_Claims)
        if claims.sub != uri or claims.iss != self._issuer:
            raise ValueError("status list names another list or issuer")
        if claims.exp is not None and claims.exp <= now:
            raise ValueError("status list expired")
        if claims.iat > now + self._leeway:
            # Its iat would become the newest and make every honest list look old until
            # our clock caught up: a gateway locked out by one mis-dated list.
            raise ValueError("status list issued in the future")
        if claims.status_list is None:
            raise ValueError("no status_list claim")
        ttl = min(max(float(claims.ttl or _MIN_TTL), _MIN_TTL), _MAX_TTL)
        packed = decode_status_list(claims.status_list.bits, claims.status_list.lst)
        return claims.status_list.bits, packed, claims.iat, ttl
