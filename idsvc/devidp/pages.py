"""Server-rendered pages of the demo provider: about, persona chooser, errors.

Every page carries the demo banner and the same response headers. The pages run no
script and load nothing from elsewhere; the CSP allows only the packaged stylesheet (by
hash), forbids framing (a persona chooser inside another site's frame would invite
clickjacking), and the referrer policy keeps the authorization request's URL to itself.
There is no ``form-action`` directive: browsers apply it to the redirect that follows the
form, and that redirect goes to the client's registered URI.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from litestar.enums import MediaType
from litestar.response import Template

from idsvc.devidp.personas import PERSONAS, Persona
from idsvc.http.page_headers import page_headers

__all__ = ["BANNER", "TEMPLATE_DIRECTORY", "chooser_page", "error_page", "index_page"]

BANNER = "Demo identity provider — not for real identities"
TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"
STYLE = (TEMPLATE_DIRECTORY / "style.css").read_text(encoding="utf-8")
# No form-action: the persona form's redirect goes to the client's registered URI.
PAGE_HEADERS = page_headers(STYLE, form_action=None)


def _page(template: str, *, status: int = 200, **context: object) -> Template:
    return Template(
        template_name=template,
        context={"banner": BANNER, "style": STYLE, **context},
        headers=PAGE_HEADERS,
        media_type=MediaType.HTML,
        status_code=status,
    )


def index_page(*, discovery_url: str) -> Template:
    return _page("index.html", discovery=discovery_url)


def error_page(
    *, status: int, title: str, message: str, code: str | None = None, description: str = ""
) -> Template:
    return _page(
        "error.html",
        status=status,
        title=title,
        message=message,
        code=code,
        description=description,
    )


def chooser_page(*, action: str, transaction: str, client_id: str, redirect_uri: str) -> Template:
    parts = urlsplit(redirect_uri)
    return _page(
        "choose.html",
        action=action,
        transaction=transaction,
        client_id=client_id,
        redirect_origin=f"{parts.scheme}://{parts.netloc}",
        cards=[_card(persona) for persona in PERSONAS],
    )


def _card(persona: Persona) -> dict[str, object]:
    facts = [("E-mail", persona.email)]
    attested = persona.verification
    if attested is None:
        facts.append(("Identity proofing", "none"))
    else:
        facts.append(("Nationalities", ", ".join(attested.nationalities)))
        facts.append(("U.S.-person basis", attested.us_person_basis or "none attested"))
        if attested.permanent_residence_country:
            facts.append(("Permanent residence", attested.permanent_residence_country))
        checked = ", ".join(
            f"{e.document_type.replace('_', ' ')} ({e.issuer_country})" for e in attested.evidence
        )
        facts.append(("Assurance", f"{attested.assurance_level}, {checked or 'self-asserted'}"))
    return {"id": persona.id, "name": persona.name, "summary": persona.summary, "facts": facts}
