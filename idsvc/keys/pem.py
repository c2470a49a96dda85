"""PEM export of public keys, labelled so an operator can map each block to its ``kid``."""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

__all__ = ["public_keys_pem"]


def public_keys_pem(keys: Iterable[tuple[str, str, PublicKeyTypes]]) -> bytes:
    blocks = []
    for kid, alg, key in keys:
        pem = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        blocks.append(f"# kid: {kid}\n# alg: {alg}\n".encode() + pem)
    return b"\n".join(blocks)
