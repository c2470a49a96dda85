"""The demo IdP's pages: banner everywhere, accessible structure, locked-down headers."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from idsvc.devidp import PERSONAS
from idsvc.devidp.pages import BANNER
from tests.support.devidp.pages import Page, read_page

if TYPE_CHECKING:
    import httpx

    from tests.support.devidp.relying_party import RelyingParty


def assert_demo_page(response: httpx.Response) -> Page:
    assert response.headers["content-type"].startswith("text/html")
    page = read_page(response.text)
    assert page.text.startswith(BANNER), "the banner comes first on the page"
    assert page.lang == "en"
    assert [level for level, _ in page.headings].count("h1") == 1
    # Nothing runs and nothing loads from elsewhere.
    assert not {"script", "iframe", "img", "link"} & page.tags
    origin = f"{response.url.scheme}://{response.url.netloc.decode()}/"
    assert all(url.startswith(origin) for url in page.urls), page.urls
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    style_hash = base64.b64encode(hashlib.sha256(page.style.encode()).digest()).decode()
    assert f"'sha256-{style_hash}'" in csp, "the CSP allows exactly the page's stylesheet"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    return page


async def test_about_page(issuer: str, browser: httpx.AsyncClient) -> None:
    page = assert_demo_page(await browser.get(issuer + "/"))
    assert issuer + "/.well-known/openid-configuration" in page.urls


async def test_chooser_offers_every_persona_and_a_cancel(rp: RelyingParty) -> None:
    response = await rp.browser.get(rp.authorization().url)
    page = assert_demo_page(response)
    assert page.form_method == "post"
    assert page.form_action == rp.metadata["authorization_endpoint"]
    assert set(page.hidden) == {"transaction"}
    assert len(page.hidden["transaction"]) >= 43
    assert ("h1", "Sign in to rp-basic") in page.headings
    names = {persona.name for persona in PERSONAS}
    assert {text for level, text in page.headings if level == "h2"} == names
    persona_buttons = [b for b in page.buttons if b.name == "persona"]
    assert {(b.value, b.label) for b in persona_buttons} == {
        (p.id, f"Continue as {p.name}") for p in PERSONAS
    }
    assert page.button("Cancel").value == "cancel"
    assert "https://rp.example" in page.text


async def test_error_page_escapes_the_rejected_redirect_uri(rp: RelyingParty) -> None:
    # The refusal names the unregistered URI, which the attacker chose.
    marker = "<script>alert(1)</script>"
    response = await rp.browser.get(
        rp.authorization(redirect_uri="https://e.example/" + marker).url
    )
    assert response.status_code == 400
    assert marker not in response.text
    assert "&lt;script&gt;" in response.text


async def test_error_pages_carry_the_banner(rp: RelyingParty) -> None:
    bad_redirect = await rp.browser.get(rp.authorization(redirect_uri="https://evil.example").url)
    assert bad_redirect.status_code == 400
    assert_demo_page(bad_redirect)
    page = read_page((await rp.browser.get(rp.authorization().url)).text)
    no_persona = await rp.submit(page)
    assert no_persona.status_code == 400
    assert_demo_page(no_persona)
    expired = await rp.browser.post(
        rp.metadata["authorization_endpoint"], data={"transaction": "nope", "persona": "us-citizen"}
    )
    assert expired.status_code == 400
    assert_demo_page(expired)


async def test_mounted_provider_pages_carry_the_banner(
    mounted_issuer: str, browser: httpx.AsyncClient
) -> None:
    assert_demo_page(await browser.get(mounted_issuer + "/"))
