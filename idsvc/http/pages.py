"""Rendering pages: one layout, a strict CSP (the stylesheet is inline and allowed by its
hash, and so is the one small script that adds copy buttons), and no caching of personal
pages."""

from __future__ import annotations

from pathlib import Path

from litestar.enums import MediaType
from litestar.response import Template

from idsvc.http.page_headers import page_headers

__all__ = ["PAGE_HEADERS", "TEMPLATE_DIRECTORY", "page"]

TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"
STYLE = (TEMPLATE_DIRECTORY / "style.css").read_text(encoding="utf-8")
# Copy buttons (hidden without JavaScript, where the values stay selectable text).
SCRIPT = (TEMPLATE_DIRECTORY / "copy.js").read_text(encoding="utf-8")
PAGE_HEADERS = page_headers(STYLE, form_action="'self'", script=SCRIPT)


def page(template: str, *, title: str, status: int = 200, **context: object) -> Template:
    return Template(
        template_name=template,
        context={"title": title, "style": STYLE, "script": SCRIPT, **context},
        headers=PAGE_HEADERS,
        media_type=MediaType.HTML,
        status_code=status,
    )
