"""The published keys, as a gateway sees them over HTTP."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from litestar import Litestar
from litestar.testing import AsyncTestClient

from idsvc.jose.jwk import key_from_public_jwk, thumbprint


async def test_jwks_publishes_current_and_next_public_keys(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert len(keys) == 2  # the signing key and its published successor
    for jwk in keys:
        assert jwk["use"] == "sig"
        assert jwk["alg"] == "ES256"
        assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256")
        assert jwk["kid"] == thumbprint(jwk)
        assert not {"d", "p", "q"} & set(jwk)


async def test_jwks_etag_answers_304(client: AsyncTestClient[Litestar]) -> None:
    first = await client.get("/.well-known/jwks.json")
    again = await client.get(
        "/.well-known/jwks.json", headers={"if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


async def test_metadata(client: AsyncTestClient[Litestar]) -> None:
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["issuer"] == "http://127.0.0.1:8000"
    assert metadata["jwks_uri"] == "http://127.0.0.1:8000/.well-known/jwks.json"
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]


async def test_pem_export_matches_the_jwks(client: AsyncTestClient[Litestar]) -> None:
    jwks = (await client.get("/.well-known/jwks.json")).json()["keys"]
    pem = (await client.get("/keys/signing-keys.pem")).content
    for jwk in jwks:
        assert f"# kid: {jwk['kid']}".encode() in pem
        expected = key_from_public_jwk(jwk).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert expected in pem
    assert b"PRIVATE" not in pem


async def test_no_endpoint_returns_private_material(client: AsyncTestClient[Litestar]) -> None:
    for path in (
        "/.well-known/jwks.json",
        "/keys/signing-keys.pem",
        "/.well-known/oauth-authorization-server",
    ):
        body = (await client.get(path)).text
        assert '"d"' not in body
        assert "PRIVATE KEY" not in body
