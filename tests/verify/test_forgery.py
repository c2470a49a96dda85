"""Every way a token can be wrong fails closed, with its own exception class and code."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from idsvc.jose.base64url import b64url_decode, b64url_encode
from idsvc.verify import (
    AlgorithmMismatch,
    BadSignature,
    EmbeddedKey,
    Expired,
    InvalidClaim,
    MalformedToken,
    MissingClaim,
    NotYetValid,
    TokenTooLarge,
    UnknownKey,
    UnsupportedCritical,
    VerificationError,
    Verifier,
    WrongAudience,
    WrongIssuer,
    WrongType,
)
from tests.support.forge import AUDIENCE, ISSUER, NOW, Key, claims, header, raw_token, token

KEY = Key("ES256")
STRANGER = Key("ES256")
ED_KEY = Key("EdDSA")


def verifier(**kwargs: Any) -> Verifier:
    return Verifier(
        issuer=ISSUER, audience=AUDIENCE, jwks=KEY.jwks(ED_KEY), clock=lambda: NOW, **kwargs
    )


def valid() -> str:
    return token(KEY)


def with_segment(tok: str, index: int, value: str) -> str:
    segments = tok.split(".")
    segments[index] = value
    return ".".join(segments)


def hs256_with_public_key() -> str:
    """Classic alg confusion: HMAC keyed with the public key's bytes."""
    head = {"alg": "HS256", "kid": KEY.kid, "typ": "eligibility+jwt"}
    signing_input = (
        b64url_encode(json.dumps(head).encode())
        + "."
        + b64url_encode(json.dumps(claims()).encode())
    )
    secret = json.dumps(KEY.jwk).encode()
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url_encode(mac)


def der_signature() -> str:
    tok = valid()
    signing_input = tok.rsplit(".", 1)[0].encode()
    der = KEY.private.sign(signing_input, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg,union-attr]
    return with_segment(tok, 2, b64url_encode(der))


def tampered_payload() -> str:
    tok = valid()
    payload = json.loads(b64url_decode(tok.split(".")[1]))
    payload["entitlements"] = ["model:everything"]
    return with_segment(tok, 1, b64url_encode(json.dumps(payload).encode()))


CASES: list[tuple[str, Callable[[], str], type[VerificationError], str]] = [
    ("oversized", lambda: "a" * (8 * 1024 + 1), TokenTooLarge, "token_too_large"),
    ("two-segments", lambda: valid().rsplit(".", 1)[0], MalformedToken, "malformed"),
    ("four-segments", lambda: valid() + ".x", MalformedToken, "malformed"),
    ("empty", lambda: "", MalformedToken, "malformed"),
    ("bad-base64", lambda: with_segment(valid(), 0, "e30=="), MalformedToken, "malformed"),
    (
        "header-not-json",
        lambda: with_segment(valid(), 0, b64url_encode(b"{nope")),
        MalformedToken,
        "malformed",
    ),
    (
        "header-array",
        lambda: with_segment(valid(), 0, b64url_encode(b"[]")),
        MalformedToken,
        "malformed",
    ),
    ("payload-array", lambda: raw_token(header(KEY), b"[1]", b"x"), BadSignature, "bad_signature"),
    (
        "alg-none",
        lambda: raw_token(header(KEY, alg="none"), claims(), b""),
        AlgorithmMismatch,
        "algorithm_mismatch",
    ),
    (
        "alg-missing",
        lambda: raw_token(header(KEY, alg=None), claims(), b"x"),
        AlgorithmMismatch,
        "algorithm_mismatch",
    ),
    ("hs256-confusion", hs256_with_public_key, AlgorithmMismatch, "algorithm_mismatch"),
    # An ES256 key's kid with alg EdDSA: the key's own algorithm decides, not the header.
    (
        "alg-key-confusion",
        lambda: raw_token(header(KEY, alg="EdDSA"), claims(), b"x" * 64),
        AlgorithmMismatch,
        "algorithm_mismatch",
    ),
    ("unknown-kid", lambda: token(KEY, head=header(KEY, kid="nobody")), UnknownKey, "unknown_key"),
    ("kid-missing", lambda: token(KEY, head=header(KEY, kid=None)), UnknownKey, "unknown_key"),
    (
        "embedded-jwk",
        lambda: token(STRANGER, head={**header(STRANGER), "jwk": STRANGER.jwk}),
        EmbeddedKey,
        "embedded_key",
    ),
    (
        "jku",
        lambda: token(KEY, head={**header(KEY), "jku": "https://evil/jwks"}),
        EmbeddedKey,
        "embedded_key",
    ),
    (
        "x5u",
        lambda: token(KEY, head={**header(KEY), "x5u": "https://evil/cert"}),
        EmbeddedKey,
        "embedded_key",
    ),
    ("x5c", lambda: token(KEY, head={**header(KEY), "x5c": ["MIIB"]}), EmbeddedKey, "embedded_key"),
    ("typ-jwt", lambda: token(KEY, head=header(KEY, typ="JWT")), WrongType, "wrong_type"),
    ("typ-missing", lambda: token(KEY, head=header(KEY, typ=None)), WrongType, "wrong_type"),
    ("typ-at+jwt", lambda: token(KEY, head=header(KEY, typ="at+jwt")), WrongType, "wrong_type"),
    (
        "typ-statuslist",
        lambda: token(KEY, head=header(KEY, typ="statuslist+jwt")),
        WrongType,
        "wrong_type",
    ),
    (
        "crit",
        lambda: token(KEY, head={**header(KEY), "crit": ["exp"]}),
        UnsupportedCritical,
        "unsupported_critical_header",
    ),
    ("tampered-payload", tampered_payload, BadSignature, "bad_signature"),
    ("empty-signature", lambda: with_segment(valid(), 2, ""), BadSignature, "bad_signature"),
    (
        "truncated-signature",
        lambda: with_segment(valid(), 2, valid().split(".")[2][:40]),
        BadSignature,
        "bad_signature",
    ),
    ("der-signature", der_signature, BadSignature, "bad_signature"),
    (
        "stranger-key-known-kid",
        lambda: token(STRANGER, head=header(STRANGER, kid=KEY.kid)),
        BadSignature,
        "bad_signature",
    ),
    ("wrong-iss", lambda: token(KEY, iss="https://evil.example"), WrongIssuer, "wrong_issuer"),
    ("iss-missing", lambda: token(KEY, iss=None), WrongIssuer, "wrong_issuer"),
    ("wrong-aud", lambda: token(KEY, aud="other-model"), WrongAudience, "wrong_audience"),
    ("aud-missing", lambda: token(KEY, aud=None), WrongAudience, "wrong_audience"),
    ("aud-list", lambda: token(KEY, aud=[AUDIENCE, "other"]), WrongAudience, "wrong_audience"),
    ("exp-missing", lambda: token(KEY, exp=None), MissingClaim, "missing_claim"),
    ("exp-string", lambda: token(KEY, exp="1800000300"), InvalidClaim, "invalid_claim"),
    ("exp-float", lambda: token(KEY, exp=1800000300.5), InvalidClaim, "invalid_claim"),
    ("expired", lambda: token(KEY, exp=int(NOW) - 31), Expired, "expired"),
    ("nbf-future", lambda: token(KEY, nbf=int(NOW) + 31), NotYetValid, "not_yet_valid"),
    ("iat-future", lambda: token(KEY, iat=int(NOW) + 31), NotYetValid, "not_yet_valid"),
    ("entitlements-missing", lambda: token(KEY, entitlements=None), InvalidClaim, "invalid_claim"),
    ("bad-cnf", lambda: token(KEY, cnf={"jkt": 5}), InvalidClaim, "invalid_claim"),
]


@pytest.mark.parametrize(("name", "make", "error", "code"), CASES, ids=[c[0] for c in CASES])
def test_forgery_is_refused(
    name: str, make: Callable[[], str], error: type[VerificationError], code: str
) -> None:
    with pytest.raises(error) as caught:
        verifier().verify(make())
    assert type(caught.value) is error
    assert caught.value.code == code


def test_valid_token_passes_and_leeway_applies() -> None:
    claims_ = verifier().verify(valid())
    assert claims_.aud == AUDIENCE
    assert claims_.entitlements == ("model:mythos-5:invoke",)
    # Within the 30 s leeway both ways.
    verifier().verify(token(KEY, exp=int(NOW) - 29))
    verifier().verify(token(KEY, nbf=int(NOW) + 29, iat=int(NOW) + 29))


def test_eddsa_token_verifies_with_its_own_key() -> None:
    tok = token(ED_KEY)
    assert verifier().verify(tok).sub == "pairwise-sub"


def test_unknown_extra_claims_are_tolerated() -> None:
    assert verifier().verify(token(KEY, future_claim={"x": 1})).pol == "mythos-5@3"


def test_keys_without_alg_or_with_private_members_are_not_trusted() -> None:
    no_alg = {k: v for k, v in KEY.jwk.items() if k != "alg"}
    v = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks={"keys": [no_alg]}, clock=lambda: NOW)
    with pytest.raises(UnknownKey):
        v.verify(valid())
    enc = {**KEY.jwk, "use": "enc"}
    v = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks={"keys": [enc]}, clock=lambda: NOW)
    with pytest.raises(UnknownKey):
        v.verify(valid())
    hs = {"kty": "oct", "k": "c2VjcmV0", "kid": KEY.kid, "alg": "HS256"}
    v = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks={"keys": [hs]}, clock=lambda: NOW)
    with pytest.raises(UnknownKey):
        v.verify(hs256_with_public_key())
