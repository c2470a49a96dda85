"""Rendering pages: one layout, a strict CSP (the stylesheet is inline and allowed by its
hash; no script runs), and no caching of personal pages."""

from __future__ import annotations

from pathlib import Path

from litestar.enums import MediaType
from litestar.response import Template

from idsvc.http.page_headers import page_headers

__all__ = ["PAGE_HEADERS", "TEMPLATE_DIRECTORY", "page"]

TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"
STYLE = (TEMPLATE_DIRECTORY / "style.css").read_text(encoding="utf-8")
PAGE_HEADERS = page_headers(STYLE, form_action="'self'")


def page(template: str, *, title: str, status: int = 200, **context: object) -> Template:
    return Template(
        template_name=template,
        context={"title": title, "style": STYLE, **context},
        headers=PAGE_HEADERS,
        media_type=MediaType.HTML,
        status_code=status,
    )
