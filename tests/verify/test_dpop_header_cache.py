"""The verifier caches checked proof headers (the JWK parsed into a key, its thumbprint).
A cached header must never stand in for a signature: every proof's signature is checked."""

from __future__ import annotations

import pytest

from idsvc.verify.dpop import DPoPVerifier
from idsvc.verify.errors import DPoPBadSignature
from tests.support.forge import NOW, Key, dpop_proof

URL = "https://idsvc.example/oauth2/token"


def test_a_cached_header_with_a_forged_signature_is_refused() -> None:
    verifier = DPoPVerifier(clock=lambda: NOW)
    victim, attacker = Key(), Key()
    genuine = dpop_proof(victim, "", ath=None, htu=URL, jti="one")
    jkt = verifier.verify_for_issuance(genuine, method="POST", url=URL)
    # Same header bytes as the genuine proof (the victim's key), signed by the attacker.
    forged = dpop_proof(victim, "", ath=None, htu=URL, jti="two", signer=attacker)
    assert forged.split(".")[0] == genuine.split(".")[0]
    with pytest.raises(DPoPBadSignature):
        verifier.verify_for_issuance(forged, method="POST", url=URL)
    again = dpop_proof(victim, "", ath=None, htu=URL, jti="three")
    assert verifier.verify_for_issuance(again, method="POST", url=URL) == jkt


def test_the_cache_is_bounded() -> None:
    verifier = DPoPVerifier(clock=lambda: NOW, max_cached_headers=3)
    keys = [Key() for _ in range(5)]
    for n, key in enumerate(keys):
        verifier.verify_for_issuance(
            dpop_proof(key, "", ath=None, htu=URL, jti=f"p{n}"), method="POST", url=URL
        )
    assert len(verifier._headers._checked) == 3


def test_a_verifier_without_a_header_cache_still_verifies() -> None:
    verifier = DPoPVerifier(clock=lambda: NOW, max_cached_headers=0)
    key = Key()
    for n in range(2):
        proof = dpop_proof(key, "", ath=None, htu=URL, jti=f"z{n}")
        verifier.verify_for_issuance(proof, method="POST", url=URL)
