"""Text bound for a spreadsheet, made inert. A cell that begins with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is a formula to Excel, LibreOffice and Google Sheets
(``=HYPERLINK(…)``, ``+cmd|…``, ``@SUM(…)``): names and e-mail addresses come from people
and identity providers, and an org admin who opens an export must not run them. OWASP's
advice: prefix such a cell with a single quote, which the spreadsheet shows as text."""

from __future__ import annotations

__all__ = ["inert_cell"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: str | None) -> str:
    text = value or ""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
