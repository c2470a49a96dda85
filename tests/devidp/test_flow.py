"""End to end: a relying party signs in as each persona over real HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from idsvc.devidp import PERSONAS
from tests.support.clock import WallClock
from tests.support.devidp.relying_party import RelyingParty, query
from tests.support.devidp.server import BASIC_CLIENT, POST_CLIENT

if TYPE_CHECKING:
    import httpx

PASSPORT_USA = {
    "type": "document",
    "document_details": {"type": "passport", "issuer": {"country_code": "USA"}},
}

# Written out by hand rather than derived from PERSONAS, so a mistake in the table shows.
EXPECTED: dict[str, tuple[str, str, dict[str, object] | None]] = {
    "us-citizen": (
        "Alice Citizen",
        "alice@example.com",
        {
            "verification": {"assurance_level": "IAL2", "evidence": [PASSPORT_USA]},
            "claims": {
                "nationalities": ["USA"],
                "us_person_basis": "citizen",
                "given_name": "Alice",
                "family_name": "Citizen",
                "birthdate": "1988-04-12",
            },
        },
    ),
    "permanent-resident": (
        "Pablo Resident",
        "pablo@example.com",
        {
            "verification": {
                "assurance_level": "IAL2",
                "evidence": [
                    {
                        "type": "document",
                        "document_details": {
                            "type": "residence_permit",
                            "issuer": {"country_code": "USA"},
                        },
                    }
                ],
            },
            "claims": {
                "nationalities": ["MEX"],
                "us_person_basis": "permanent_resident",
                "permanent_residence_country": "USA",
                "given_name": "Pablo",
                "family_name": "Resident",
                "birthdate": "1979-09-30",
            },
        },
    ),
    "foreign-national": (
        "Frieda National",
        "frieda@example.com",
        {
            "verification": {
                "assurance_level": "IAL2",
                "evidence": [
                    {
                        "type": "document",
                        "document_details": {"type": "passport", "issuer": {"country_code": "DEU"}},
                    }
                ],
            },
            "claims": {
                "nationalities": ["DEU"],
                "given_name": "Frieda",
                "family_name": "National",
                "birthdate": "1992-01-23",
            },
        },
    ),
    "dual-national": (
        "Dana Dual",
        "dana@example.com",
        {
            "verification": {"assurance_level": "IAL2", "evidence": [PASSPORT_USA]},
            "claims": {
                "nationalities": ["USA", "CHN"],
                "us_person_basis": "citizen",
                "given_name": "Dana",
                "family_name": "Dual",
                "birthdate": "1984-06-05",
            },
        },
    ),
    "low-assurance": (
        "Larry Lowassurance",
        "larry@example.com",
        {
            "verification": {"assurance_level": "IAL1"},
            "claims": {"nationalities": ["USA"], "us_person_basis": "citizen"},
        },
    ),
    "email-only": ("Sam Staff", "sam@example.com", None),
}


def test_every_persona_has_an_expectation() -> None:
    assert {persona.id for persona in PERSONAS} == set(EXPECTED)


async def test_discovery_publishes_endpoints_under_the_issuer(
    issuer: str, browser: httpx.AsyncClient
) -> None:
    response = await browser.get(issuer + "/.well-known/openid-configuration")
    metadata = response.json()
    assert metadata["issuer"] == issuer
    for name, path in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
    ]:
        assert metadata[name] == issuer + path
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["grant_types_supported"] == ["authorization_code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["id_token_signing_alg_values_supported"] == ["ES256"]
    assert metadata["subject_types_supported"] == ["public"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert {"openid", "email", "profile"} <= set(metadata["scopes_supported"])
    assert "verified_claims" in metadata["claims_supported"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["verified_claims_supported"] is True
    assert metadata["claims_parameter_supported"] is True
    assert metadata["trust_frameworks_supported"] == ["nist_800_63A"]
    assert metadata["evidence_supported"] == ["document"]
    assert set(metadata["claims_in_verified_claims_supported"]) == {
        "nationalities",
        "us_person_basis",
        "permanent_residence_country",
        "given_name",
        "family_name",
        "birthdate",
    }


async def test_discovery_ignores_a_forged_host_header(
    issuer: str, browser: httpx.AsyncClient
) -> None:
    response = await browser.get(
        issuer + "/.well-known/openid-configuration", headers={"Host": "evil.example"}
    )
    assert response.json()["authorization_endpoint"] == issuer + "/authorize"


async def test_jwks_publishes_one_public_es256_key(issuer: str, browser: httpx.AsyncClient) -> None:
    keys = (await browser.get(issuer + "/jwks")).json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert key["kid"]
    assert "d" not in key


@pytest.mark.parametrize("persona", sorted(EXPECTED))
async def test_sign_in_attests_the_persona(
    rp: RelyingParty, clock: WallClock, persona: str
) -> None:
    name, email, expected = EXPECTED[persona]
    signed_in = await rp.sign_in(persona)

    assert signed_in.id_token_header["alg"] == "ES256"
    assert signed_in.id_token_header["kid"]
    claims = signed_in.id_token
    assert (claims["name"], claims["email"], claims["email_verified"]) == (name, email, True)
    assert claims["sub"] == next(p.sub for p in PERSONAS if p.id == persona)
    assert claims["exp"] - claims["iat"] == 300
    assert abs(claims["auth_time"] - clock.timestamp()) < 60
    assert claims["at_hash"]
    assert signed_in.token["token_type"] == "Bearer"
    assert signed_in.token["expires_in"] == 300
    assert "refresh_token" not in signed_in.token

    userinfo = signed_in.userinfo
    assert userinfo["sub"] == claims["sub"]
    assert (userinfo["name"], userinfo["email"], userinfo["email_verified"]) == (name, email, True)
    if expected is None:
        assert "verified_claims" not in claims
        assert "verified_claims" not in userinfo
        return
    for document in (claims["verified_claims"], userinfo["verified_claims"]):
        verification = document["verification"]
        assert verification["trust_framework"] == "nist_800_63A"
        assert verification["assurance_level"] == expected["verification"]["assurance_level"]  # type: ignore[index]
        assert verification.get("evidence") == expected["verification"].get("evidence")  # type: ignore[attr-defined]
        verified_at = datetime.strptime(verification["time"], "%Y-%m-%dT%H:%M:%SZ")
        age = claims["auth_time"] - verified_at.replace(tzinfo=UTC).timestamp()
        assert age == 30 * 86_400
        assert document["claims"] == expected["claims"]
    assert claims["verified_claims"] == userinfo["verified_claims"]


async def test_client_secret_post_client_signs_in(
    issuer: str, browser: httpx.AsyncClient, clock: WallClock
) -> None:
    rp = await RelyingParty.discover(issuer, POST_CLIENT, browser=browser, clock=clock.timestamp)
    signed_in = await rp.sign_in("us-citizen")
    assert signed_in.id_token["aud"] == POST_CLIENT.client_id


async def test_sign_in_through_the_mounted_provider(
    mounted_issuer: str, browser: httpx.AsyncClient, clock: WallClock
) -> None:
    assert mounted_issuer.endswith("/demo-idp")
    rp = await RelyingParty.discover(
        mounted_issuer, BASIC_CLIENT, browser=browser, clock=clock.timestamp
    )
    page = await rp.chooser(rp.authorization())
    assert page.form_action == mounted_issuer + "/authorize"
    signed_in = await rp.sign_in("dual-national")
    assert signed_in.id_token["iss"] == mounted_issuer
    assert signed_in.userinfo["verified_claims"]["claims"]["nationalities"] == ["USA", "CHN"]
    parent = mounted_issuer.removesuffix("/demo-idp")
    assert (await browser.get(parent + "/health")).text == "parent app"


async def test_claims_parameter_places_and_narrows_verified_claims(rp: RelyingParty) -> None:
    request = {
        "userinfo": {"verified_claims": {"verification": {}, "claims": {"nationalities": None}}}
    }
    signed_in = await rp.sign_in("permanent-resident", claims=json.dumps(request))
    assert "verified_claims" not in signed_in.id_token
    assert signed_in.userinfo["verified_claims"]["claims"] == {"nationalities": ["MEX"]}
    assert signed_in.userinfo["verified_claims"]["verification"]["assurance_level"] == "IAL2"


async def test_claims_parameter_array_form_for_the_id_token(rp: RelyingParty) -> None:
    request = {
        "id_token": {
            "verified_claims": [
                {"verification": {}, "claims": {"us_person_basis": None}},
                {"verification": {}, "claims": {"permanent_residence_country": None}},
            ]
        }
    }
    signed_in = await rp.sign_in("permanent-resident", claims=json.dumps(request))
    assert signed_in.id_token["verified_claims"]["claims"] == {
        "us_person_basis": "permanent_resident",
        "permanent_residence_country": "USA",
    }
    assert "verified_claims" not in signed_in.userinfo


async def test_claims_that_the_persona_lacks_leave_verified_claims_out(rp: RelyingParty) -> None:
    request = {"id_token": {"verified_claims": {"claims": {"us_person_basis": None}}}}
    signed_in = await rp.sign_in("foreign-national", claims=json.dumps(request))
    assert "verified_claims" not in signed_in.id_token


async def test_cancel_returns_access_denied_with_state_and_issuer(rp: RelyingParty) -> None:
    authorization = rp.authorization()
    page = await rp.chooser(authorization)
    cancel = page.button("Cancel")
    response = await rp.submit(page, **{cancel.name: cancel.value})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(BASIC_CLIENT.redirect_uris[0] + "?")
    returned = query(location)
    assert returned["error"] == "access_denied"
    assert returned["state"] == authorization.state
    assert returned["iss"] == rp.metadata["issuer"]
    assert "code" not in returned


async def test_second_registered_redirect_uri_is_accepted(rp: RelyingParty) -> None:
    other = BASIC_CLIENT.redirect_uris[1]
    authorization, callback = await rp.authorize("us-citizen", redirect_uri=other)
    assert callback.startswith(other + "?")
    token = await rp.exchange(authorization, callback, redirect_uri=other)
    assert token["id_token"]


async def test_rsa_key_signs_rs256_id_tokens(
    rsa_issuer: str, browser: httpx.AsyncClient, clock: WallClock
) -> None:
    rp = await RelyingParty.discover(
        rsa_issuer, BASIC_CLIENT, browser=browser, clock=clock.timestamp
    )
    assert rp.metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    signed_in = await rp.sign_in("us-citizen")
    assert signed_in.id_token_header["alg"] == "RS256"
    assert signed_in.id_token["verified_claims"]["claims"]["us_person_basis"] == "citizen"
