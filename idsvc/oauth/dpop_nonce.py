"""Server-provided DPoP nonces (RFC 9449 §8), stateless: an HMAC of the current time
window under a service secret, so every instance issues and accepts the same nonces
without sharing state. A nonce is good for the current and the previous window."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from idsvc.constant_time import same_secret
from idsvc.jose.base64url import b64url_encode

__all__ = ["DPoPNonces"]


class DPoPNonces:
    def __init__(
        self, secret: Callable[[], bytes], clock: Callable[[], float], window: int = 300
    ) -> None:
        self._secret = secret
        self._clock = clock
        self._window = window

    def _for(self, window_index: int) -> str:
        mac = hmac.new(self._secret(), b"dpop-nonce|%d" % window_index, hashlib.sha256)
        return b64url_encode(mac.digest()[:24])

    def current(self) -> str:
        return self._for(int(self._clock()) // self._window)

    def valid(self, nonce: str | None) -> bool:
        if nonce is None or len(nonce) > 64:
            return False
        index = int(self._clock()) // self._window
        return any(same_secret(nonce, self._for(i)) for i in (index, index - 1))
