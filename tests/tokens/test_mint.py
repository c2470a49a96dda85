"""Minted tokens: exactly the claim set of design 3.2, accepted by independent libraries."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import jwt as pyjwt
import msgspec
import pytest
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet

from idsvc.jose.base64url import b64url_decode
from idsvc.keys.material import Algorithm, generate_private_key, public_jwk
from idsvc.keys.ring import SigningKey
from idsvc.keys.schedule import KeyTimes
from idsvc.tokens.mint import mint_eligibility_token
from idsvc.tokens.pairwise import pairwise_subject
from idsvc.verify.claims import OrgClaim, StatusClaim, StatusListReference

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schemas" / "eligibility-token.schema.json").read_text()
)


def signer(alg: Algorithm) -> SigningKey:
    key = generate_private_key(alg)
    jwk = public_jwk(key, alg)
    assert jwk.kid
    return SigningKey(
        kid=jwk.kid,
        alg=alg,
        private_key=key,
        public_jwk=msgspec.to_builtins(jwk),
        times=KeyTimes(
            kid=jwk.kid, published_at=NOW, activates_at=NOW, retires_at=NOW, expires_at=NOW
        ),
    )


def mint(key: SigningKey, **overrides: object) -> str:
    arguments: dict[str, object] = {
        "signer": key,
        "issuer": "https://id.example",
        "subject": "abc",
        "audience": "mythos-5",
        "now": NOW,
        "lifetime": 300,
        "entitlements": ("model:mythos-5:invoke",),
        "assurance": "IAL2",
        "policy_ref": "mythos-5@3",
    }
    arguments.update(overrides)
    return mint_eligibility_token(**arguments).token  # type: ignore[arg-type]


def parts(token: str) -> tuple[dict[str, object], dict[str, object]]:
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "RS256"])
def test_pyjwt_and_joserfc_accept_tokens_given_only_the_jwks(alg: Algorithm) -> None:
    key = signer(alg)
    token = mint(key)
    jwks = {"keys": [key.public_jwk]}

    pyjwt_key = pyjwt.PyJWKSet.from_dict(jwks)[key.kid]
    claims = pyjwt.decode(
        token,
        pyjwt_key,
        algorithms=[alg],
        audience="mythos-5",
        issuer="https://id.example",
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
        leeway=10**9,  # the fixed NOW is in the past for the wall clock
    )
    assert claims["entitlements"] == ["model:mythos-5:invoke"]

    decoded = joserfc_jwt.decode(token, KeySet.import_key_set(jwks), algorithms=[alg])
    assert decoded.header["typ"] == "eligibility+jwt"
    assert decoded.claims["aud"] == "mythos-5"


def test_claim_set_is_exactly_the_contract() -> None:
    key = signer("ES256")
    header, claims = parts(
        mint(
            key,
            org=OrgClaim(id="org-1", programs=("critical-infrastructure",)),
            dpop_jkt="0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
            status=StatusClaim(
                status_list=StatusListReference(idx=7, uri="https://id.example/status-lists/1")
            ),
        )
    )
    assert header == {"alg": "ES256", "kid": key.kid, "typ": "eligibility+jwt"}
    assert set(claims) == {
        "iss",
        "sub",
        "aud",
        "iat",
        "nbf",
        "exp",
        "jti",
        "entitlements",
        "assurance",
        "pol",
        "org",
        "cnf",
        "status",
    }
    assert claims["exp"] - claims["iat"] == 300
    assert claims["nbf"] == claims["iat"]
    jsonschema.validate(claims, SCHEMA)
    jsonschema.validate(header, {**SCHEMA["$defs"]["EligibilityHeader"], "$defs": SCHEMA["$defs"]})


def test_optional_claims_are_omitted_not_null() -> None:
    _, claims = parts(mint(signer("ES256")))
    assert not {"org", "cnf", "status"} & set(claims)
    jsonschema.validate(claims, SCHEMA)


@pytest.mark.parametrize(
    ("asked", "granted"), [(300, 300), (3600, 3600), (86_400, 3600), (0, 1), (-5, 1)]
)
def test_lifetime_is_never_over_an_hour(asked: int, granted: int) -> None:
    _, claims = parts(mint(signer("ES256"), lifetime=asked))
    assert claims["exp"] - claims["iat"] == granted


def test_every_token_has_a_fresh_jti() -> None:
    key = signer("ES256")
    assert len({parts(mint(key))[1]["jti"] for _ in range(50)}) == 50


def test_schema_rejects_personal_data() -> None:
    _, claims = parts(mint(signer("ES256")))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**claims, "nationality": "US"}, SCHEMA)


def test_pairwise_subject_is_stable_per_audience_and_unlinkable_across() -> None:
    secret = os.urandom(32)
    a1 = pairwise_subject(secret, user_id="u1", audience="a")
    assert a1 == pairwise_subject(secret, user_id="u1", audience="a")
    assert a1 != pairwise_subject(secret, user_id="u1", audience="b")
    assert a1 != pairwise_subject(secret, user_id="u2", audience="a")
    assert a1 != pairwise_subject(os.urandom(32), user_id="u1", audience="a")
    # Field boundaries cannot be shifted to forge a collision.
    assert pairwise_subject(secret, user_id="ab", audience="c") != pairwise_subject(
        secret, user_id="a", audience="bc"
    )
