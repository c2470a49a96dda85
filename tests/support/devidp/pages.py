"""Reads the demo IdP's HTML the way a test needs it: forms, buttons, headings, text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Button:
    name: str
    value: str
    label: str = ""


@dataclass
class Page:
    lang: str = ""
    form_action: str = ""
    form_method: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    buttons: list[Button] = field(default_factory=list)
    headings: list[tuple[str, str]] = field(default_factory=list)
    title: str = ""
    style: str = ""
    text: str = ""
    tags: set[str] = field(default_factory=set)
    urls: list[str] = field(default_factory=list)

    def button(self, label_start: str) -> Button:
        return next(b for b in self.buttons if b.label.startswith(label_start))


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._open: list[str] = []
        self._heading = ""
        self._button: Button | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.page.tags.add(tag)
        self.page.urls.extend(values[a] for a in ("href", "src", "action") if a in values)
        if tag == "html":
            self.page.lang = values.get("lang", "")
        elif tag == "form":
            self.page.form_action = values.get("action", "")
            self.page.form_method = values.get("method", "").lower()
        elif tag == "input" and values.get("type") == "hidden":
            self.page.hidden[values["name"]] = values.get("value", "")
        elif tag == "button":
            self._button = Button(values.get("name", ""), values.get("value", ""))
        if tag not in ("input", "meta", "br"):
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()
        if tag in ("h1", "h2", "h3"):
            self.page.headings.append((tag, self._heading.strip()))
            self._heading = ""
        elif tag == "button" and self._button is not None:
            self._button.label = self._button.label.strip()
            self.page.buttons.append(self._button)
            self._button = None

    def handle_data(self, data: str) -> None:
        current = self._open[-1] if self._open else ""
        if current == "style":
            self.page.style += data
            return
        if current == "title":
            self.page.title += data
            return
        self._text.append(data)
        if current in ("h1", "h2", "h3"):
            self._heading += data
        if self._button is not None:
            self._button.label += data


def read_page(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    reader.page.text = " ".join(" ".join(reader._text).split())
    return reader.page
