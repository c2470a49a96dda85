"""Pairwise subject identifiers: stable for one user and one audience, unlinkable across.

``sub`` = base64url(HMAC-SHA256(key, user id ‖ 0x00 ‖ audience)). Two gateways of
different audiences that compare notes cannot tell whether two tokens belong to the same
person without the key, which never leaves the service. The key is a service secret kept
encrypted in the database (see ``idsvc.keys.secrets``), so every instance derives the same
value, and rotating the session secret does not change anyone's subject.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["pairwise_subject"]


def pairwise_subject(key: bytes, *, user_id: str, audience: str) -> str:
    # The 0x00 separator keeps ("ab", "c") and ("a", "bc") apart; ids contain no NUL.
    mac = hmac.new(key, f"{user_id}\x00{audience}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
