"""The Token Status List encoding (draft-ietf-oauth-status-list §4): a byte array of
``bits``-wide statuses, index 0 in the least significant bits of byte 0, compressed with
DEFLATE in the ZLIB format (level 9, as the draft's examples) and base64url-encoded
without padding. Pure: the server builds lists with it, tests check it against the
draft's published examples."""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from idsvc.jose.base64url import b64url_encode

__all__ = [
    "INVALID",
    "SUSPENDED",
    "VALID",
    "encode_statuses",
    "pack_statuses",
    "status_list_uri",
]

VALID, INVALID, SUSPENDED = 0, 1, 2


def pack_statuses(size: int, entries: Iterable[tuple[int, int]], *, bits: int = 2) -> bytes:
    """The raw byte array for ``size`` slots; ``entries`` are (index, status), every slot
    not named is 0 (VALID, or unused)."""
    if bits not in (1, 2, 4, 8):
        raise ValueError("bits must be 1, 2, 4 or 8")
    per_byte = 8 // bits
    mask = (1 << bits) - 1
    packed = bytearray(-(-size // per_byte))
    for index, status in entries:
        if not 0 <= index < size or not 0 <= status <= mask:
            raise ValueError(f"entry ({index}, {status}) does not fit a {size}-slot list")
        packed[index // per_byte] |= status << ((index % per_byte) * bits)
    return bytes(packed)


def encode_statuses(packed: bytes) -> str:
    """``lst``: the byte array compressed and base64url-encoded."""
    return b64url_encode(zlib.compress(packed, 9))


def status_list_uri(issuer: str, list_id: int) -> str:
    """Where a list is served; tokens carry it in ``status.status_list.uri``."""
    return f"{issuer}/status-lists/{list_id}"
