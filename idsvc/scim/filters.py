"""SCIM filters (RFC 7644 §3.4.2.2), parsed into a predicate over a User resource.

Supported: the comparison operators eq, ne, co, sw, ew, gt, ge, lt, le and pr; and, or,
not and parentheses; attribute paths with a sub-attribute (``emails.value``,
``name.givenName``) and value filters (``emails[type eq "work"].value``). Attribute names
and ``userName``/e-mail values compare case-insensitively, as their schemas declare
(caseExact false), by the folding of ``idsvc.accounts.addresses``; a compared value with
invisible characters or look-alike forms is refused. Anything else is an
``invalidFilter`` error, never a guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from idsvc.accounts.addresses import AddressRefused, check_plain_text, fold_stored

__all__ = ["FilterError", "Predicate", "parse_filter"]

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lp>\() | (?P<rp>\)) | (?P<lb>\[) | (?P<rb>\])
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<word>[A-Za-z0-9_:.$-]+)
    )""",
    re.VERBOSE,
)
_OPERATORS = {"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}
_MAX_FILTER = 1000
# Parentheses, brackets and "not" nest the parser's recursion; real filters nest two or three.
_MAX_DEPTH = 20


class FilterError(ValueError):
    """Maps to SCIM ``invalidFilter``."""


def _tokens(text: str) -> list[tuple[str, str]]:
    if len(text) > _MAX_FILTER:
        raise FilterError("filter too long")
    out, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(f"unexpected text at {position}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}


def _literal(kind: str, raw: str) -> Any:
    if kind == "string":
        # SCIM filter strings are JSON strings (RFC 7644 §3.4.2.2): a bad escape such as
        # "\x" or "\u12" is the client's error, not ours.
        try:
            value = json.loads(raw)
        except ValueError:
            raise FilterError(f"not a JSON string: {raw[:40]}") from None
        try:
            # Values compare folded (below), and folding maps look-alikes onto the plain
            # letters: "<U+212A>ate@" would find kate@. Such a value names no User that
            # could be stored, so the look-up is refused rather than answered.
            check_plain_text(value)
        except AddressRefused as exc:
            raise FilterError(f"a compared value {exc.reason}") from None
        return value
    if raw.lower() in _CONSTANTS:
        return _CONSTANTS[raw.lower()]
    try:
        return float(raw) if "." in raw else int(raw)
    except ValueError:
        raise FilterError(f"not a value: {raw}") from None


def _values(resource: dict[str, Any], path: str) -> list[Any]:
    """Every value at ``path`` (``a`` or ``a.b``), looking through multi-valued lists."""
    current: list[Any] = [resource]
    for part in path.split("."):
        found: list[Any] = []
        for item in current:
            if isinstance(item, dict):
                key = next((k for k in item if k.lower() == part.lower()), None)
                value = item.get(key) if key is not None else None
                if isinstance(value, list):
                    found.extend(value)
                elif value is not None:
                    found.append(value)
        current = found
    return current


_STRING_OPS: dict[str, Callable[[str, str], bool]] = {
    "co": lambda actual, expected: expected in actual,
    "sw": str.startswith,
    "ew": str.endswith,
}
_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: bool(a > b),
    "ge": lambda a, b: bool(a >= b),
    "lt": lambda a, b: bool(a < b),
    "le": lambda a, b: bool(a <= b),
}


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        # The addresses' comparison key's folding (idsvc.accounts.addresses); stored values
        # may predate its checks, so they are folded without them.
        actual, expected = fold_stored(actual), fold_stored(expected)
        if op in _STRING_OPS:
            return _STRING_OPS[op](actual, expected)
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op in _ORDER_OPS and type(actual) is type(expected):
        return _ORDER_OPS[op](actual, expected)
    return False


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.i, self.depth = tokens, 0, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterError("unexpected end of filter")
        self.i += 1
        return token

    def word(self, *expected: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].lower() in expected:
            self.i += 1
            return True
        return False

    def expression(self) -> Predicate:
        left = self.term()
        while self.word("or"):
            left = _either(left, self.term())
        return left

    def term(self) -> Predicate:
        left = self.factor()
        while self.word("and"):
            left = _both(left, self.factor())
        return left

    def factor(self) -> Predicate:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise FilterError(f"filter nested deeper than {_MAX_DEPTH}")
        try:
            return self._factor()
        finally:
            self.depth -= 1

    def _factor(self) -> Predicate:
        if self.word("not"):
            inner = self.factor()
            return lambda r: not inner(r)
        token = self.peek()
        if token is not None and token[0] == "lp":
            self.take()
            inner = self.expression()
            if self.take()[0] != "rp":
                raise FilterError("expected )")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, path = self.take()
        if kind != "word":
            raise FilterError("expected an attribute")
        token = self.peek()
        if token is not None and token[0] == "lb":  # emails[type eq "work"]
            self.take()
            inner = self.expression()
            if self.take()[0] != "rb":
                raise FilterError("expected ]")
            sub = ""
            nxt = self.peek()
            if nxt is not None and nxt[0] == "word" and nxt[1].startswith("."):
                sub = self.take()[1][1:]
            # An extension Entra and Okta send: emails[type eq "work"].value co "x".
            compare = self._operator() if sub and self._at_operator() else None
            return self._value_filter(path, inner, sub, compare)
        op, expected = self._operator()
        if op == "pr":
            return lambda r: any(v not in ("", None, [], {}) for v in _values(r, path))
        return lambda r: any(_compare(op, v, expected) for v in _values(r, path))

    def _at_operator(self) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].lower() in _OPERATORS | {"pr"}

    def _operator(self) -> tuple[str, Any]:
        op_kind, op = self.take()
        op = op.lower()
        if op_kind != "word" or (op not in _OPERATORS and op != "pr"):
            raise FilterError(f"unknown operator {op}")
        if op == "pr":
            return op, None
        value_kind, raw = self.take()
        if value_kind not in ("string", "word"):
            raise FilterError("expected a value")
        return op, _literal(value_kind, raw)

    @staticmethod
    def _value_filter(
        path: str, inner: Predicate, sub: str, compare: tuple[str, Any] | None
    ) -> Predicate:
        def matches(resource: dict[str, Any]) -> bool:
            for item in _values(resource, path):
                if not isinstance(item, dict) or not inner(item):
                    continue
                values = _values(item, sub) if sub else [item]
                if compare is None and values:
                    return True
                if compare is not None:
                    op, expected = compare
                    if op == "pr" and values:
                        return True
                    if any(_compare(op, v, expected) for v in values):
                        return True
            return False

        return matches


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda r: a(r) or b(r)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda r: a(r) and b(r)


def parse_filter(text: str) -> Predicate:
    parser = _Parser(_tokens(text))
    predicate = parser.expression()
    if parser.peek() is not None:
        raise FilterError("unexpected text after the filter")
    return predicate
