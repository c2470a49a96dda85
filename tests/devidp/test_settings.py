"""Settings are refused at construction, with the field named, when they are unsafe."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from litestar import Litestar

import idsvc.devidp
from idsvc.devidp import DemoClient, DemoIdPSettings, create_demo_idp, demo_idp_mount
from idsvc.devidp.keys import load_signing_key
from tests.support.devidp.server import BASIC_CLIENT


def pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(
    "issuer",
    [
        "http://idp.example",  # plain http off loopback
        "ftp://127.0.0.1/idp",
        "http://127.0.0.1:8000/idp?x=1",
        "http://127.0.0.1:8000/idp#top",
        "127.0.0.1:8000",
    ],
)
def test_unsafe_issuer_is_refused(issuer: str) -> None:
    with pytest.raises(ValueError, match=r"devidp\.issuer"):
        DemoIdPSettings(issuer=issuer, clients=(BASIC_CLIENT,))


@pytest.mark.parametrize(
    "issuer", ["https://idp.example", "http://127.0.0.1:8000/demo-idp", "http://localhost:9000"]
)
def test_https_or_loopback_issuer_is_accepted(issuer: str) -> None:
    assert DemoIdPSettings(issuer=issuer, clients=(BASIC_CLIENT,)).issuer == issuer


def test_clients_must_be_present_and_unique() -> None:
    with pytest.raises(ValueError, match="at least one client"):
        DemoIdPSettings(issuer="https://idp.example", clients=())
    with pytest.raises(ValueError, match="unique"):
        DemoIdPSettings(issuer="https://idp.example", clients=(BASIC_CLIENT, BASIC_CLIENT))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"client_secret": "short"}, "client_secret"),
        ({"redirect_uris": ()}, "redirect_uris"),
        ({"redirect_uris": ("https://rp.example/cb#frag",)}, "redirect_uris"),
        ({"redirect_uris": ("/relative",)}, "redirect_uris"),
        ({"redirect_uris": ("javascript:alert(1)",)}, "redirect_uris"),
        ({"client_id": ""}, "client_id"),
    ],
)
def test_bad_client_is_refused(changes: dict[str, object], message: str) -> None:
    fields = {
        "client_id": "rp",
        "client_secret": "s" * 20,
        "redirect_uris": ("https://rp.example/cb",),
    }
    with pytest.raises(ValueError, match=message):
        DemoClient(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [("code_lifetime", 0), ("code_lifetime", 601), ("id_token_lifetime", 0), ("capacity", 0)],
)
def test_out_of_range_numbers_are_refused(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        DemoIdPSettings(issuer="https://idp.example", clients=(BASIC_CLIENT,), **{field: value})  # type: ignore[arg-type]


def test_ec_p256_pem_signs_es256_with_a_stable_kid() -> None:
    key_pem = pem(ec.generate_private_key(ec.SECP256R1()))
    first, second = load_signing_key(key_pem), load_signing_key(key_pem)
    assert first.alg == "ES256"
    assert first.kid == second.kid
    assert first.public_jwk["kid"] == first.kid
    assert (first.public_jwk["alg"], first.public_jwk["use"]) == ("ES256", "sig")
    assert "d" not in first.public_jwk


def test_rsa_pem_signs_rs256() -> None:
    key = load_signing_key(pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    assert (key.alg, key.public_jwk["kty"], key.public_jwk["alg"]) == ("RS256", "RSA", "RS256")
    assert "d" not in key.public_jwk
    assert "p" not in key.public_jwk


def test_generated_keys_differ_per_start() -> None:
    assert load_signing_key(None).kid != load_signing_key(None).kid


@pytest.mark.parametrize(
    "key_pem",
    [
        "not a key",
        pem(ec.generate_private_key(ec.SECP384R1())),
        pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
    ],
)
def test_unusable_signing_key_is_refused(key_pem: str) -> None:
    with pytest.raises(ValueError, match=r"devidp\.signing_key"):
        create_demo_idp(
            DemoIdPSettings(
                issuer="https://idp.example", clients=(BASIC_CLIENT,), signing_key=key_pem
            )
        )


def test_mount_needs_a_path_in_the_issuer() -> None:
    settings = DemoIdPSettings(issuer="http://127.0.0.1:8000", clients=(BASIC_CLIENT,))
    with pytest.raises(ValueError, match="mounting needs a path"):
        demo_idp_mount(settings)


def test_factory_returns_a_litestar_app() -> None:
    settings = DemoIdPSettings(issuer="https://idp.example", clients=(BASIC_CLIENT,))
    assert isinstance(create_demo_idp(settings), Litestar)


def test_public_surface_is_complete() -> None:
    public = {name for name in vars(idsvc.devidp) if not name.startswith("_")}
    modules = {
        "app",
        "claims",
        "demo_list",
        "examples",
        "grants",
        "keys",
        "metadata",
        "pages",
        "personas",
        "provider",
        "api",
        "server",
        "settings",
        "store",
        "wiring",
    }
    assert public - modules == set(idsvc.devidp.__all__)
