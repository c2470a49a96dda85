"""DPoP-bound tokens (RFC 9449): every proof defect is refused with its own code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from idsvc.jose.jwk import thumbprint
from idsvc.verify import (
    DPoPBadKey,
    DPoPBadSignature,
    DPoPError,
    DPoPKeyMismatch,
    DPoPMalformed,
    DPoPReplayed,
    DPoPRequired,
    DPoPStale,
    DPoPWrongMethod,
    DPoPWrongTokenHash,
    DPoPWrongType,
    DPoPWrongUrl,
    Verifier,
)
from idsvc.verify.dpop import normalize_htu
from tests.support.forge import AUDIENCE, ISSUER, NOW, Key, dpop_proof, token

ISSUER_KEY = Key("ES256")
CLIENT = Key("ES256")
OTHER_CLIENT = Key("EdDSA")
URL = "https://api.example/v1/infer"


def verifier() -> Verifier:
    return Verifier(issuer=ISSUER, audience=AUDIENCE, jwks=ISSUER_KEY.jwks(), clock=lambda: NOW)


def bound_token() -> str:
    return token(ISSUER_KEY, cnf={"jkt": thumbprint(CLIENT.jwk)})


def check(tok: str, proof: str | None, *, method: str = "POST", url: str = URL) -> None:
    verifier().verify(tok, dpop_proof=proof, method=method, url=url)


def test_valid_proof_passes() -> None:
    tok = bound_token()
    claims = verifier().verify(tok, dpop_proof=dpop_proof(CLIENT, tok), method="POST", url=URL)
    assert claims.cnf is not None


def test_url_query_and_fragment_and_case_are_normalised() -> None:
    tok = bound_token()
    proof = dpop_proof(CLIENT, tok, htu="HTTPS://API.example:443/v1/infer")
    check(tok, proof, url="https://api.example/v1/infer?stream=true#x")


def test_missing_proof() -> None:
    with pytest.raises(DPoPRequired):
        check(bound_token(), None)


PRIVATE_JWK = {
    **{k: v for k, v in CLIENT.jwk.items() if k not in ("kid", "alg", "use")},
    "d": "AAAA",
}

CASES: list[tuple[str, Callable[[str], str], type[DPoPError]]] = [
    ("wrong-method", lambda t: dpop_proof(CLIENT, t, htm="GET"), DPoPWrongMethod),
    (
        "wrong-url",
        lambda t: dpop_proof(CLIENT, t, htu="https://api.example/v1/admin"),
        DPoPWrongUrl,
    ),
    (
        "wrong-host",
        lambda t: dpop_proof(CLIENT, t, htu="https://evil.example/v1/infer"),
        DPoPWrongUrl,
    ),
    ("stale-iat", lambda t: dpop_proof(CLIENT, t, iat=NOW - 61), DPoPStale),
    ("future-iat", lambda t: dpop_proof(CLIENT, t, iat=NOW + 61), DPoPStale),
    ("missing-ath", lambda t: dpop_proof(CLIENT, t, ath=None), DPoPWrongTokenHash),
    ("wrong-ath", lambda t: dpop_proof(CLIENT, t, ath="x" * 43), DPoPWrongTokenHash),
    ("other-key", lambda t: dpop_proof(OTHER_CLIENT, t), DPoPKeyMismatch),
    ("signed-by-other-key", lambda t: dpop_proof(CLIENT, t, signer=Key("ES256")), DPoPBadSignature),
    ("private-key-in-jwk", lambda t: dpop_proof(CLIENT, t, jwk=PRIVATE_JWK), DPoPBadKey),
    ("wrong-typ", lambda t: dpop_proof(CLIENT, t, typ="JWT"), DPoPWrongType),
    ("not-a-jws", lambda t: "abc.def", DPoPMalformed),
    ("oversized", lambda t: "a" * 9000, DPoPMalformed),
]


@pytest.mark.parametrize(("name", "make", "error"), CASES, ids=[c[0] for c in CASES])
def test_bad_proof_is_refused(
    name: str, make: Callable[[str], str], error: type[DPoPError]
) -> None:
    tok = bound_token()
    with pytest.raises(error) as caught:
        check(tok, make(tok))
    assert type(caught.value) is error


def test_replayed_proof_is_refused() -> None:
    v = verifier()
    tok = bound_token()
    proof = dpop_proof(CLIENT, tok, jti="once")
    v.verify(tok, dpop_proof=proof, method="POST", url=URL)
    with pytest.raises(DPoPReplayed):
        v.verify(tok, dpop_proof=proof, method="POST", url=URL)


def test_failed_proof_does_not_burn_its_jti() -> None:
    v = verifier()
    tok = bound_token()
    proof = dpop_proof(CLIENT, tok, jti="retry")
    with pytest.raises(DPoPWrongMethod):
        v.verify(tok, dpop_proof=proof, method="GET", url=URL)
    v.verify(tok, dpop_proof=proof, method="POST", url=URL)


def test_replay_cache_full_fails_closed() -> None:
    from idsvc.verify.dpop import DPoPVerifier

    dpop = DPoPVerifier(clock=lambda: NOW, max_replay_entries=3)
    tok = bound_token()
    jkt = thumbprint(CLIENT.jwk)
    for n in range(3):
        dpop.verify(
            dpop_proof(CLIENT, tok, jti=f"j{n}"), jkt=jkt, token=tok, method="POST", url=URL
        )
    with pytest.raises(DPoPReplayed, match="full"):
        dpop.verify(dpop_proof(CLIENT, tok, jti="j3"), jkt=jkt, token=tok, method="POST", url=URL)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://A.example/x", "https://a.example/x"),
        ("https://a.example:443/x", "https://a.example/x"),
        ("http://a.example:80/x?q=1", "http://a.example/x"),
        ("https://a.example", "https://a.example/"),
    ],
)
def test_htu_normalisation(a: str, b: str) -> None:
    assert normalize_htu(a) == normalize_htu(b)


def test_htu_keeps_what_matters() -> None:
    assert normalize_htu("https://a.example:8443/x") != normalize_htu("https://a.example/x")
    assert normalize_htu("http://a.example/x") != normalize_htu("https://a.example/x")
    assert normalize_htu("https://a.example/X") != normalize_htu("https://a.example/x")


def test_unbound_token_ignores_a_proof() -> None:
    tok = token(ISSUER_KEY)
    args: dict[str, Any] = {"dpop_proof": "garbage", "method": "POST", "url": URL}
    assert verifier().verify(tok, **args).cnf is None
