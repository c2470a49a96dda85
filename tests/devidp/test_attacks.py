"""Each test tries to break one rule of the demo IdP over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import TYPE_CHECKING

import pytest
from authlib.integrations.base_client import OAuthError

from idsvc.devidp.pages import BANNER
from tests.support.clock import WallClock
from tests.support.devidp.pages import read_page
from tests.support.devidp.relying_party import RelyingParty, query
from tests.support.devidp.server import BASIC_CLIENT, POST_CLIENT

if TYPE_CHECKING:
    import httpx


def assert_error_page(response: httpx.Response) -> str:
    """The request was refused on the IdP's own page, with no redirect anywhere."""
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert BANNER in read_page(response.text).text
    return response.text


async def assert_redirected_error(rp: RelyingParty, url: str, error: str) -> dict[str, str]:
    """The request was refused back to the (verified) redirect URI, without a code."""
    response = await rp.browser.get(url)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(BASIC_CLIENT.redirect_uris[0] + "?")
    returned = query(location)
    assert returned["error"] == error
    assert returned["iss"] == rp.metadata["issuer"]
    assert "code" not in returned
    return returned


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        "https://rp.example/callback/",  # exact match: no trailing-slash leniency
        "https://rp.example/callback?x=1",
        "https://rp.example/callbackx",
        "https://RP.example/callback",
        "http://rp.example/callback",
    ],
)
async def test_unregistered_redirect_uri_gets_an_error_page(
    rp: RelyingParty, redirect_uri: str
) -> None:
    response = await rp.browser.get(rp.authorization(redirect_uri=redirect_uri).url)
    assert "not supported by client" in assert_error_page(response)


async def test_another_clients_redirect_uri_gets_an_error_page(rp: RelyingParty) -> None:
    url = rp.authorization(redirect_uri=POST_CLIENT.redirect_uris[0]).url
    assert_error_page(await rp.browser.get(url))


async def test_unknown_client_gets_an_error_page(rp: RelyingParty) -> None:
    url = rp.authorization().url.replace("client_id=rp-basic", "client_id=nobody")
    assert_error_page(await rp.browser.get(url))


async def test_missing_redirect_uri_gets_an_error_page(rp: RelyingParty) -> None:
    url = rp.authorization().url
    without = "&".join(p for p in url.split("&") if not p.startswith("redirect_uri="))
    assert_error_page(await rp.browser.get(without))


async def test_repeated_redirect_uri_gets_an_error_page(rp: RelyingParty) -> None:
    url = rp.authorization().url + "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"
    assert_error_page(await rp.browser.get(url))


async def test_unsupported_response_type_for_unverified_uri_is_not_redirected(
    rp: RelyingParty,
) -> None:
    url = rp.authorization(response_type="token", redirect_uri="https://evil.example/cb").url
    assert_error_page(await rp.browser.get(url))


async def test_missing_code_challenge_is_refused(rp: RelyingParty) -> None:
    url = rp.authorization().url
    without = "&".join(p for p in url.split("&") if not p.startswith("code_challenge"))
    returned = await assert_redirected_error(rp, without, "invalid_request")
    assert "code_challenge" in returned["error_description"]


async def test_plain_code_challenge_method_is_refused(rp: RelyingParty) -> None:
    url = rp.authorization().url.replace(
        "code_challenge_method=S256", "code_challenge_method=plain"
    )
    await assert_redirected_error(rp, url, "invalid_request")


async def test_missing_nonce_is_refused(rp: RelyingParty) -> None:
    url = "&".join(p for p in rp.authorization().url.split("&") if not p.startswith("nonce="))
    await assert_redirected_error(rp, url, "invalid_request")


async def test_missing_state_is_refused(rp: RelyingParty) -> None:
    url = "&".join(p for p in rp.authorization().url.split("&") if not p.startswith("state="))
    returned = await assert_redirected_error(rp, url, "invalid_request")
    assert "state" not in returned


async def test_scope_without_openid_is_refused(rp: RelyingParty) -> None:
    await assert_redirected_error(rp, rp.authorization(scope="email profile").url, "invalid_scope")


async def test_malformed_claims_parameter_is_refused(rp: RelyingParty) -> None:
    await assert_redirected_error(rp, rp.authorization(claims="[1, 2]").url, "invalid_request")


async def test_prompt_none_without_a_session_is_login_required(rp: RelyingParty) -> None:
    await assert_redirected_error(rp, rp.authorization(prompt="none").url, "login_required")


async def test_replayed_nonce_is_refused(rp: RelyingParty) -> None:
    nonce = secrets.token_urlsafe(16)
    await rp.authorize("us-citizen", nonce=nonce)
    await assert_redirected_error(rp, rp.authorization(nonce=nonce).url, "invalid_request")


async def test_code_reuse_is_refused_and_revokes_the_first_token(rp: RelyingParty) -> None:
    authorization, callback = await rp.authorize("us-citizen")
    token = await rp.exchange(authorization, callback)
    assert (await rp.userinfo(token["access_token"])).status_code == 200
    with pytest.raises(OAuthError) as refused:
        await rp.exchange(authorization, callback)
    assert refused.value.error == "invalid_grant"
    # RFC 6749 §4.1.2: the token obtained with the code stops working.
    assert (await rp.userinfo(token["access_token"])).status_code == 401


async def test_wrong_code_verifier_is_refused_and_burns_the_code(rp: RelyingParty) -> None:
    authorization, callback = await rp.authorize("us-citizen")
    with pytest.raises(OAuthError) as refused:
        await rp.exchange(authorization, callback, code_verifier=secrets.token_urlsafe(48))
    assert refused.value.error == "invalid_grant"
    # No second guess: the code was consumed by the failed attempt.
    with pytest.raises(OAuthError):
        await rp.exchange(authorization, callback)


async def post_token(
    rp: RelyingParty,
    callback: str,
    *,
    auth: tuple[str, str] | None = (BASIC_CLIENT.client_id, BASIC_CLIENT.client_secret),
    **fields: str,
) -> httpx.Response:
    """A hand-made token request, for what Authlib's client would not send."""
    data = {
        "grant_type": "authorization_code",
        "code": query(callback)["code"],
        "redirect_uri": BASIC_CLIENT.redirect_uris[0],
        **fields,
    }
    return await rp.browser.post(rp.metadata["token_endpoint"], data=data, auth=auth)


async def test_missing_code_verifier_is_refused(rp: RelyingParty) -> None:
    _, callback = await rp.authorize("us-citizen")
    response = await post_token(rp, callback)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_wrong_client_secret_is_refused(rp: RelyingParty) -> None:
    authorization, callback = await rp.authorize("us-citizen")
    with pytest.raises(OAuthError) as refused:
        await rp.exchange(authorization, callback, secret="wrong-secret-0123456789")
    assert refused.value.error == "invalid_client"


async def test_wrong_client_secret_answers_401_with_www_authenticate(rp: RelyingParty) -> None:
    authorization, callback = await rp.authorize("us-citizen")
    response = await post_token(
        rp,
        callback,
        auth=(BASIC_CLIENT.client_id, "wrong-secret-0123456789"),
        code_verifier=authorization.verifier,
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert response.headers["cache-control"] == "no-store"


async def test_client_must_use_its_registered_auth_method(rp: RelyingParty) -> None:
    authorization, callback = await rp.authorize("us-citizen")
    response = await post_token(
        rp,
        callback,
        auth=None,
        code_verifier=authorization.verifier,
        client_id=BASIC_CLIENT.client_id,
        client_secret=BASIC_CLIENT.client_secret,
    )
    assert response.json()["error"] == "invalid_client"


async def test_code_issued_to_another_client_is_refused(rp: RelyingParty, clock: WallClock) -> None:
    authorization, callback = await rp.authorize("us-citizen")
    other = RelyingParty(
        metadata=rp.metadata, client=POST_CLIENT, browser=rp.browser, clock=clock.timestamp
    )
    with pytest.raises(OAuthError) as refused:
        await other.exchange(authorization, callback)
    assert refused.value.error == "invalid_grant"


async def test_token_request_with_a_different_redirect_uri_is_refused(rp: RelyingParty) -> None:
    authorization, callback = await rp.authorize("us-citizen")
    with pytest.raises(OAuthError) as refused:
        await rp.exchange(authorization, callback, redirect_uri=BASIC_CLIENT.redirect_uris[1])
    assert refused.value.error == "invalid_grant"


async def test_expired_code_is_refused(rp: RelyingParty, clock: WallClock) -> None:
    authorization, callback = await rp.authorize("us-citizen")
    clock.advance(61)
    with pytest.raises(OAuthError) as refused:
        await rp.exchange(authorization, callback)
    assert refused.value.error == "invalid_grant"


async def test_code_within_its_lifetime_is_accepted(rp: RelyingParty, clock: WallClock) -> None:
    authorization, callback = await rp.authorize("us-citizen")
    clock.advance(55)
    assert (await rp.exchange(authorization, callback))["id_token"]


async def test_pkce_verifier_is_checked_against_s256(rp: RelyingParty) -> None:
    # The verifier whose *plain* value equals the challenge must not pass.
    authorization = rp.authorization()
    challenge = query(authorization.url)["code_challenge"]
    digest = hashlib.sha256(authorization.verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    page = await rp.chooser(authorization)
    callback = (await rp.submit(page, persona="us-citizen")).headers["location"]
    with pytest.raises(OAuthError):
        await rp.exchange(authorization, callback, code_verifier=challenge)


async def test_transaction_is_single_use(rp: RelyingParty) -> None:
    page = await rp.chooser(rp.authorization())
    assert (await rp.submit(page, persona="us-citizen")).status_code == 303
    assert "expired" in assert_error_page(await rp.submit(page, persona="us-citizen"))


async def test_forged_transaction_is_refused(rp: RelyingParty) -> None:
    page = await rp.chooser(rp.authorization())
    page.hidden["transaction"] = secrets.token_urlsafe(32)
    assert_error_page(await rp.submit(page, persona="us-citizen"))


async def test_transaction_expires(rp: RelyingParty, clock: WallClock) -> None:
    page = await rp.chooser(rp.authorization())
    clock.advance(601)
    assert_error_page(await rp.submit(page, persona="us-citizen"))


async def test_unknown_persona_is_refused_without_using_up_the_page(rp: RelyingParty) -> None:
    page = await rp.chooser(rp.authorization())
    assert_error_page(await rp.submit(page, persona="root"))
    assert (await rp.submit(page, persona="us-citizen")).status_code == 303


async def test_userinfo_requires_a_valid_bearer_token(rp: RelyingParty) -> None:
    endpoint = rp.metadata["userinfo_endpoint"]
    missing = await rp.browser.get(endpoint)
    assert missing.status_code == 401
    assert (await rp.userinfo(secrets.token_urlsafe(32))).status_code == 401
    basic = await rp.browser.get(endpoint, auth=(BASIC_CLIENT.client_id, "x"))
    assert basic.status_code == 401


async def test_access_token_expires(rp: RelyingParty, clock: WallClock) -> None:
    authorization, callback = await rp.authorize("us-citizen")
    token = await rp.exchange(authorization, callback)
    clock.advance(301)
    response = await rp.userinfo(token["access_token"])
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")


async def test_oversized_authorization_request_is_not_stored(rp: RelyingParty) -> None:
    url = rp.authorization(padding="x" * 9000).url
    assert_error_page(await rp.browser.get(url))
