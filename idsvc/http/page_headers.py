"""Security headers for server-rendered pages with one inline stylesheet and at most one
inline script (progressive enhancement: the pages work without it).

The CSP allows only that stylesheet, by its hash, so nothing injected into a page can
load or run anything; framing is forbidden (clickjacking), and personal pages are never
cached or leaked through the Referer header.
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["page_headers"]


def _hash(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def page_headers(
    style: str, *, form_action: str | None, script: str | None = None
) -> dict[str, str]:
    """``form_action`` is the CSP ``form-action`` source list, or None to leave it out
    (browsers apply it to the redirect after a form, which may go to another origin).
    ``script``: the one inline script the pages may run, allowed by its hash."""
    policy = f"default-src 'none'; style-src 'sha256-{_hash(style)}'; "
    if script is not None:
        policy += f"script-src 'sha256-{_hash(script)}'; "
    if form_action is not None:
        policy += f"form-action {form_action}; "
    policy += "frame-ancestors 'none'; base-uri 'none'"
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
