"""One comparable form of a party's name.

Listed names and applicants' names differ in ways that say nothing about identity: case,
punctuation, accents (``Société`` / ``Societe``), the legal form (``Ltd``, ``GmbH``,
``OOO``), and word order (lists often write ``SURNAME, Given``). The normal form removes
all of these, so what is left to score is the part of a name that identifies the party.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["LEGAL_SUFFIXES", "normalize_name"]

# Legal forms, written without dots and spaces (``L.L.C.`` → ``llc``, ``S.A.`` → ``sa``).
# Dropped wherever they stand: word order is discarded anyway, and lists put forms both
# first (``OOO Romashka``) and last (``Romashka OOO``).
LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp", "gmbh", "ag", "kg",
        "sa", "sas", "sarl", "srl", "spa", "ooo", "oao", "zao", "pao", "pjsc", "ojsc",
        "cjsc", "jsc", "co", "corp", "corporation", "company", "plc", "bv", "nv", "ab",
        "as", "oy", "kk", "pte", "pty", "bhd", "sdn", "fze", "fzco", "fzc", "fzllc",
        "lda", "ltda", "sl", "se", "doo", "tov", "ulc", "group", "holding", "holdings",
    }
)  # fmt: skip
# Words that join names without identifying anything (``Bank of X`` / ``X Bank``).
_STOPWORDS = frozenset({"and", "the", "of"})
# Letters NFKD does not decompose into a base letter and a mark.
_LETTERS = str.maketrans(
    {"æ": "ae", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "œ": "oe", "\u0131": "i"}
)
# Dots and apostrophes join (``S.A.``, ``O'Neil``); every other non-alphanumeric splits.
_JOINERS = re.compile("[.'\u2019`]")
_SEPARATORS = re.compile(r"[^0-9a-z]+")


def _ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_name(name: str) -> str:
    """Lower-case ASCII tokens, legal forms removed, sorted and joined by one space.

    If removing legal forms would leave nothing (a party called ``Holding AG``), they are
    kept: an empty name would match nothing, or everything.
    """
    text = _ascii_fold(name.casefold()).translate(_LETTERS)
    text = _JOINERS.sub("", text)
    tokens = [t for t in _SEPARATORS.split(text) if t]
    tokens = [t for t in tokens if t not in _STOPWORDS] or tokens
    kept = [t for t in tokens if t not in LEGAL_SUFFIXES]
    return " ".join(sorted(kept or tokens))
