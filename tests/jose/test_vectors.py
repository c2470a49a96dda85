"""Published JOSE test vectors: RFC 7638 (thumbprint), RFC 8037 (Ed25519), RFC 7515 (ES256)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from idsvc.jose.base64url import b64url_decode, b64url_encode
from idsvc.jose.jwk import key_from_public_jwk, public_jwk_from_key, thumbprint
from idsvc.jose.jws import sign_compact, verify_signature

RFC7638_KEY = {
    "kty": "RSA",
    "n": (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qvzq"
        "Y368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0"
        "fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    ),
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}

# RFC 8037 Appendix A.1-A.4.
ED25519_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
ED25519_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
ED25519_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

# RFC 7515 Appendix A.3.
ES256_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}
ES256_JWS = (
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
)


def test_rfc7638_thumbprint() -> None:
    assert thumbprint(RFC7638_KEY) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rfc8037_ed25519_key_thumbprint_and_signature() -> None:
    private = ed25519.Ed25519PrivateKey.from_private_bytes(b64url_decode(ED25519_D))
    jwk = public_jwk_from_key(private.public_key(), kid=None, alg="EdDSA")
    assert jwk.x == ED25519_X
    assert thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    # Ed25519 is deterministic: signing the RFC's input reproduces the RFC's JWS.
    assert (
        sign_compact({"alg": "EdDSA"}, b"Example of Ed25519 signing", private, "EdDSA")
        == ED25519_JWS
    )
    head, payload, signature = ED25519_JWS.split(".")
    key = key_from_public_jwk({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X})
    assert verify_signature("EdDSA", key, f"{head}.{payload}".encode(), b64url_decode(signature))


def test_rfc7515_es256_example_verifies() -> None:
    head, payload, signature = ES256_JWS.split(".")
    key = key_from_public_jwk(ES256_JWK)
    assert verify_signature("ES256", key, f"{head}.{payload}".encode(), b64url_decode(signature))
    tampered = payload[:-2] + ("Q" if payload[-2] != "Q" else "R") + payload[-1]
    assert not verify_signature(
        "ES256", key, f"{head}.{tampered}".encode(), b64url_decode(signature)
    )


@pytest.mark.parametrize("text", ["ab=", "a+b", "a/b", "a b", "a"])
def test_base64url_is_strict(text: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode(text)


def test_base64url_round_trip() -> None:
    for n in range(40):
        data = bytes(range(n))
        assert b64url_decode(b64url_encode(data)) == data


def test_off_curve_point_is_refused() -> None:
    bad = {**ES256_JWK, "y": ES256_JWK["x"]}
    with pytest.raises(ValueError):
        key_from_public_jwk(bad)


def test_private_members_are_refused() -> None:
    with pytest.raises(ValueError, match="private"):
        key_from_public_jwk({**ES256_JWK, "d": "AAAA"})


def test_short_rsa_keys_are_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    with pytest.raises(ValueError, match="2048"):
        public_jwk_from_key(small, kid="k", alg="RS256")
