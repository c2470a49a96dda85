from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from idsvc.crypto.key_encryption import KeyEncryptionError, KeyEncryptionKey, generate_kek_file


def test_round_trip_and_context_binding() -> None:
    kek = KeyEncryptionKey(os.urandom(32))
    blob = kek.encrypt(b"private key bytes", context=b"row-a")
    assert b"private key bytes" not in blob
    assert kek.decrypt(blob, context=b"row-a") == b"private key bytes"
    # A ciphertext moved to another row does not decrypt there.
    with pytest.raises(KeyEncryptionError):
        kek.decrypt(blob, context=b"row-b")


def test_wrong_kek_fails_closed() -> None:
    blob = KeyEncryptionKey(os.urandom(32)).encrypt(b"x", context=b"c")
    with pytest.raises(KeyEncryptionError, match="does not decrypt"):
        KeyEncryptionKey(os.urandom(32)).decrypt(blob, context=b"c")


def test_tampered_ciphertext_fails_closed() -> None:
    kek = KeyEncryptionKey(os.urandom(32))
    blob = bytearray(kek.encrypt(b"secret", context=b"c"))
    blob[15] ^= 1
    with pytest.raises(KeyEncryptionError):
        kek.decrypt(bytes(blob), context=b"c")


@pytest.mark.parametrize(
    ("text", "message"),
    [(b"not base64 !!", "not base64url"), (b"c2hvcnQ", "decodes to 5 bytes")],
)
def test_bad_kek_text_is_refused(text: bytes, message: str) -> None:
    with pytest.raises(KeyEncryptionError, match=message):
        KeyEncryptionKey.from_text(text)


def test_repr_hides_the_key() -> None:
    raw = os.urandom(32)
    assert raw.hex() not in repr(KeyEncryptionKey(raw))


def test_dev_kek_file_is_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "data" / "kek"
    first = generate_kek_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert generate_kek_file(path) == first
    KeyEncryptionKey.from_text(first)
