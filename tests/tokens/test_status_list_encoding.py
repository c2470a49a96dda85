"""The status list encoding against the draft's published examples
(draft-ietf-oauth-status-list §4.1), and a round trip through a decoder written here from
the draft's text, independent of the one gateways use."""

from __future__ import annotations

import base64
import random
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idsvc.tokens.status_list import encode_statuses, pack_statuses
from idsvc.verify.status import decode_status_list, status_at

# The draft's examples: 16 one-bit statuses and 12 two-bit statuses.
ONE_BIT = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
TWO_BIT = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]


def independent_decode(lst: str, bits: int, size: int) -> list[int]:
    """From the draft: base64url without padding, then ZLIB; each byte holds 8/bits
    statuses, the first in its least significant bits."""
    raw = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
    out = []
    for byte in raw:
        for slot in range(8 // bits):
            out.append((byte >> (slot * bits)) & ((1 << bits) - 1))
    return out[:size]


def test_the_drafts_one_bit_example() -> None:
    packed = pack_statuses(16, enumerate(ONE_BIT), bits=1)
    assert packed == bytes([0xB9, 0xA3])
    assert encode_statuses(packed) == "eNrbuRgAAhcBXQ"


def test_the_drafts_two_bit_example() -> None:
    packed = pack_statuses(12, enumerate(TWO_BIT), bits=2)
    assert packed == bytes([0xC9, 0x44, 0xF9])
    assert encode_statuses(packed) == "eNo76fITAAPfAgc"
    decoded = decode_status_list(2, "eNo76fITAAPfAgc")
    assert [status_at(decoded, 2, i) for i in range(12)] == TWO_BIT


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=2000))
def test_round_trip_through_both_decoders(statuses: list[int]) -> None:
    lst = encode_statuses(pack_statuses(len(statuses), enumerate(statuses)))
    assert independent_decode(lst, 2, len(statuses)) == statuses
    packed = decode_status_list(2, lst)
    assert [status_at(packed, 2, i) for i in range(len(statuses))] == statuses


def test_a_million_slots_compress_small_when_few_are_revoked() -> None:
    rng = random.Random(7)
    revoked = {rng.randrange(1 << 20): 1 for _ in range(1000)}
    lst = encode_statuses(pack_statuses(1 << 20, revoked.items()))
    assert len(lst) < 16_000
    packed = decode_status_list(2, lst)
    assert all(status_at(packed, 2, i) == 1 for i in revoked)


def test_out_of_range_entries_and_indices_and_bombs_are_refused() -> None:
    with pytest.raises(ValueError):
        pack_statuses(8, [(8, 1)])
    with pytest.raises(ValueError):
        pack_statuses(8, [(0, 4)])
    with pytest.raises(IndexError):
        status_at(bytes(2), 2, 8)
    bomb = base64.urlsafe_b64encode(zlib.compress(bytes(64 * 1024 * 1024), 9)).rstrip(b"=").decode()
    with pytest.raises(ValueError, match="too large"):
        decode_status_list(2, bomb)
