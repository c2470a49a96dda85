"""Building valid and deliberately broken tokens, DPoP proofs and status lists for the
verifier tests."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import msgspec

from idsvc.jose.base64url import b64url_encode
from idsvc.jose.jws import sign_compact
from idsvc.keys.material import Algorithm, PrivateKey, generate_private_key, public_jwk
from idsvc.tokens.status_list import encode_statuses, pack_statuses
from idsvc.verify.dpop import access_token_hash

ISSUER = "https://id.example"
AUDIENCE = "mythos-5"
NOW = 1_800_000_000.0


class Key:
    def __init__(self, alg: Algorithm = "ES256") -> None:
        self.alg = alg
        self.private = generate_private_key(alg)
        self.jwk = msgspec.to_builtins(public_jwk(self.private, alg))
        self.kid: str = self.jwk["kid"]

    def jwks(self, *others: Key) -> dict[str, Any]:
        return {"keys": [self.jwk, *(o.jwk for o in others)]}


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "pairwise-sub",
        "aud": AUDIENCE,
        "iat": int(NOW),
        "nbf": int(NOW),
        "exp": int(NOW) + 300,
        "jti": "jti-1",
        "entitlements": ["model:mythos-5:invoke"],
        "assurance": "IAL2",
        "pol": "mythos-5@3",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def header(key: Key, **overrides: Any) -> dict[str, Any]:
    base = {"alg": key.alg, "kid": key.kid, "typ": "eligibility+jwt"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def token(key: Key, *, head: dict[str, Any] | None = None, **claim_overrides: Any) -> str:
    h = head or header(key)
    return sign_compact(h, json.dumps(claims(**claim_overrides)).encode(), key.private, key.alg)


def raw_token(head: dict[str, Any], payload: dict[str, Any] | bytes, signature: bytes) -> str:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return ".".join(
        (b64url_encode(json.dumps(head).encode()), b64url_encode(body), b64url_encode(signature))
    )


def dpop_proof(
    key: Key | PrivateKey,
    tok: str,
    *,
    htm: str = "POST",
    htu: str = "https://api.example/v1/infer",
    iat: float = NOW,
    jti: str | None = None,
    ath: str | bool | None = True,
    typ: str = "dpop+jwt",
    jwk: dict[str, Any] | None = None,
    signer: Key | None = None,
    nonce: str | None = None,
) -> str:
    k = key if isinstance(key, Key) else None
    assert k is not None
    head = {
        "typ": typ,
        "alg": k.alg,
        "jwk": jwk or {m: v for m, v in k.jwk.items() if m not in ("kid", "alg", "use")},
    }
    body: dict[str, Any] = {
        "htm": htm,
        "htu": htu,
        "iat": int(iat),
        "jti": jti or f"proof-{time.perf_counter_ns()}",
    }
    if nonce is not None:
        body["nonce"] = nonce
    if ath is True:
        body["ath"] = access_token_hash(tok)
    elif isinstance(ath, str):
        body["ath"] = ath
    sign_with = signer or k
    return sign_compact(
        {**head, "alg": sign_with.alg}, json.dumps(body).encode(), sign_with.private, sign_with.alg
    )


def status_list(
    key: Key,
    *,
    uri: str,
    iat: int | None,
    statuses: Mapping[int, int] | None = None,
    ttl: int = 60,
    iss: str = ISSUER,
) -> bytes:
    """A signed statuslist+jwt of 64 two-bit slots, every one not in ``statuses`` valid;
    ``iat=None`` leaves the claim out. Valid for an hour after ``iat`` (or NOW)."""
    packed = pack_statuses(64, (statuses or {}).items(), bits=2)
    body: dict[str, Any] = {
        "iss": iss,
        "sub": uri,
        "iat": iat,
        "exp": (iat or int(NOW)) + 3600,
        "ttl": ttl,
        "status_list": {"bits": 2, "lst": encode_statuses(packed)},
    }
    head = {"alg": key.alg, "kid": key.kid, "typ": "statuslist+jwt"}
    payload = json.dumps({k: v for k, v in body.items() if v is not None}).encode()
    return sign_compact(head, payload, key.private, key.alg).encode("ascii")
