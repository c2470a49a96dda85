"""In-memory state of the demo provider: pending sign-ins, codes, access tokens, nonces.

The demo runs only under ``idsvc dev``, in one process, so memory is enough; every table
is bounded and every entry expires by the injected clock. Handlers are coroutines on one
event loop and nothing here awaits, so each read-modify-write below runs without
interleaving.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Generic, TypeVar

import msgspec

from idsvc.devidp.claims import ClaimsRequest
from idsvc.devidp.personas import Persona

if TYPE_CHECKING:
    from idsvc.devidp.settings import Clock, DemoIdPSettings

__all__ = ["AccessGrant", "DemoStore", "ExpiringMap", "IssuedCode", "PendingAuthorization"]

K = TypeVar("K")
V = TypeVar("V")


class ExpiringMap(Generic[K, V]):
    """A dict whose entries live ``ttl`` seconds; when full, the oldest entry goes.

    One ``ttl`` per map keeps insertion order equal to expiry order, so expired entries
    are always at the front and purging costs only what it removes.
    """

    def __init__(self, *, ttl: float, capacity: int, clock: Clock) -> None:
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

    def put(self, key: K, value: V) -> None:
        now = self._clock()
        self._purge(now)
        self._entries.pop(key, None)
        # Under a flood the oldest pending entry is dropped rather than refusing new
        # ones: for a local demo, the newest sign-in is the one somebody is waiting for.
        while len(self._entries) >= self._capacity:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (now + self._ttl, value)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def __contains__(self, key: K) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry[0] > self._clock()

    def pop(self, key: K) -> V | None:
        value = self.get(key)
        self._entries.pop(key, None)
        return value

    def _purge(self, now: float) -> None:
        for key, (expires_at, _) in list(self._entries.items()):
            if expires_at > now:
                break
            del self._entries[key]


class PendingAuthorization(msgspec.Struct, frozen=True, kw_only=True):
    """An authorization request Authlib accepted, waiting for the persona choice.

    Only the raw parameters are kept: the choice sends them through Authlib's checks
    again, so nothing decided at display time is trusted later.
    """

    params: tuple[tuple[str, str], ...]


class IssuedCode(msgspec.Struct, frozen=True, kw_only=True):
    """An authorization code; the methods are Authlib's AuthorizationCodeMixin protocol.

    ``code_challenge`` and ``code_challenge_method`` are the attribute names Authlib's
    ``CodeChallenge`` reads.
    """

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    persona: Persona
    auth_time: int
    claims: ClaimsRequest

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class AccessGrant(msgspec.Struct, frozen=True, kw_only=True):
    """What an access token allows: reading the userinfo of one persona."""

    persona: Persona
    scope: str
    auth_time: int
    claims: ClaimsRequest

    # Authlib's BearerTokenValidator asks these. The store hands out only live tokens:
    # it forgets a token when it expires (by the injected clock) or is revoked.
    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return False

    def get_scope(self) -> str:
        return self.scope


class DemoStore:
    def __init__(self, settings: DemoIdPSettings) -> None:
        clock, capacity = settings.clock, settings.capacity
        self.clock = clock
        self._pending: ExpiringMap[str, PendingAuthorization] = ExpiringMap(
            ttl=settings.transaction_lifetime, capacity=capacity, clock=clock
        )
        self._codes: ExpiringMap[str, IssuedCode] = ExpiringMap(
            ttl=settings.code_lifetime, capacity=capacity, clock=clock
        )
        # Redeemed codes -> the access token issued for them, kept as long as that token
        # lives, to revoke it if the code comes back.
        self._redeemed: ExpiringMap[str, str] = ExpiringMap(
            ttl=settings.access_token_lifetime, capacity=capacity, clock=clock
        )
        self._tokens: ExpiringMap[str, AccessGrant] = ExpiringMap(
            ttl=settings.access_token_lifetime, capacity=capacity, clock=clock
        )
        # Nonces seen in issued codes, for as long as an ID token carrying one is valid.
        self._nonces: ExpiringMap[tuple[str, str], None] = ExpiringMap(
            ttl=settings.code_lifetime + settings.id_token_lifetime, capacity=capacity, clock=clock
        )

    def begin(self, pending: PendingAuthorization) -> str:
        """Keep a validated request; the returned id is the page's transaction token."""
        transaction = secrets.token_urlsafe(32)
        self._pending.put(transaction, pending)
        return transaction

    def take(self, transaction: str) -> PendingAuthorization | None:
        # Single use: a second submission of the same page finds nothing.
        return self._pending.pop(transaction)

    def save_code(self, code: IssuedCode) -> None:
        self._codes.put(code.code, code)
        if code.nonce is not None:
            self._nonces.put((code.client_id, code.nonce), None)

    def redeem_code(self, code: str, client_id: str) -> IssuedCode | None:
        """The code's record, once. The first presentation consumes the code whether or
        not the exchange then succeeds, so a wrong code_verifier cannot be retried."""
        issued_token = self._redeemed.pop(code)
        if issued_token is not None:
            # RFC 6749 §4.1.2: a code used twice SHOULD revoke what it was exchanged for.
            self._tokens.pop(issued_token)
            return None
        issued = self._codes.pop(code)
        return issued if issued is not None and issued.client_id == client_id else None

    def save_access_token(self, access_token: str, grant: AccessGrant, *, code: str) -> None:
        self._tokens.put(access_token, grant)
        self._redeemed.put(code, access_token)

    def access_grant(self, access_token: str) -> AccessGrant | None:
        return self._tokens.get(access_token)

    def nonce_seen(self, client_id: str, nonce: str) -> bool:
        return (client_id, nonce) in self._nonces
