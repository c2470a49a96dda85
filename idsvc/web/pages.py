"""Rendering pages: one layout, a strict CSP (the stylesheet is inline and allowed by its
hash; no script runs), and no caching of personal pages."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from litestar.enums import MediaType
from litestar.response import Template

__all__ = ["PAGE_HEADERS", "TEMPLATE_DIRECTORY", "page"]

TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"
STYLE = (TEMPLATE_DIRECTORY / "style.css").read_text(encoding="utf-8")
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

PAGE_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def page(template: str, *, title: str, status: int = 200, **context: object) -> Template:
    return Template(
        template_name=template,
        context={"title": title, "style": STYLE, **context},
        headers=PAGE_HEADERS,
        media_type=MediaType.HTML,
        status_code=status,
    )
