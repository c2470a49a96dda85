"""One comparable form of a party's name.

Listed names and applicants' names differ in ways that say nothing about identity: case,
punctuation, accents (``Société`` / ``Societe``), script (``Рособоронэкспорт`` /
``Rosoboronexport``), the legal form (``Ltd``, ``GmbH``, ``OOO`` in either script), and word order
(lists often write ``SURNAME, Given``). The normal form removes all of these, so what is
left to score is the part of a name that identifies the party.

Script: the Consolidated Screening List writes names in Latin letters, and an applicant
may write theirs in Cyrillic, Greek, Arabic, Han or any other script. Before this step such
a name normalised to nothing and could never hit. Every letter without a Latin base form
is now transliterated with ``anyascii`` (ISC licence, tables for every Unicode script,
kept current upstream; chosen over Unidecode, GPL, and PyICU, which needs ICU built on
the machine: see docs/screening.md for the measurement). A transliteration is one
romanisation among several (``Рособоронэкспорт`` becomes ``Rosoboroneksport``), which the
fuzzy score then bridges; what transliteration cannot bridge is a name *translated* into
another language, and docs/screening.md gives the measured recall per script.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from anyascii import anyascii

__all__ = ["LEGAL_SUFFIXES", "NameForms", "name_forms", "normalize_name"]

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
        # ... as they read once transliterated from Cyrillic (ooo, ao, pao are above).
        "ao", "kholding", "gruppa", "kompaniya", "korporatsiya", "tovarishchestvo",
    }
)  # fmt: skip
# Chinese legal forms, transliterated (有限公司 → youxiangongsi). Han names carry no spaces,
# so a form is the end of the one token, not a token of its own: cut there.
_PINYIN_FORMS = (
    "gufenyouxiangongsi", "youxianzerengongsi", "youxiangongsi", "jituangongsi", "gongsi",
    "jituan",
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
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Latin accents are gone; what is still not ASCII is another script: transliterate.
    return folded if folded.isascii() else anyascii(folded)


def _without_pinyin_form(token: str) -> str:
    for form in _PINYIN_FORMS:
        if token.endswith(form) and len(token) > len(form):
            return token[: -len(form)]
    return token


# Spellings that romanisations of one sound differ by (Russian letters written dzh or j, kh
# or h, ks or x; English y where a transliteration writes i). Applied to both sides of a
# comparison, so Рособоронэкспорт (rosoboroneksport) meets Rosoboronexport and Энерджи
# (enerdzhi) meets Energy; never to a name alone, so nothing is invented.
_SKELETON = (("dzh", "j"), ("zh", "j"), ("kh", "h"), ("ks", "x"), ("ph", "f"), ("y", "i"))


def _skeleton(token: str) -> str:
    for spelling, sound in _SKELETON:
        token = token.replace(spelling, sound)
    return token


def _tokens(name: str) -> list[str]:
    """Lower-case ASCII words in written order, legal forms removed.

    If removing legal forms would leave nothing (a party called ``Holding AG``), they are
    kept: an empty name would match nothing, or everything.
    """
    text = _ascii_fold(name.casefold().translate(_LETTERS)).lower()
    text = _JOINERS.sub("", text)
    tokens = [_without_pinyin_form(t) for t in _SEPARATORS.split(text) if t]
    tokens = [t for t in tokens if t not in _STOPWORDS] or tokens
    kept = [t for t in tokens if t not in LEGAL_SUFFIXES]
    return [_skeleton(t) for t in kept or tokens]


def normalize_name(name: str) -> str:
    """Lower-case ASCII tokens, legal forms removed, sorted and joined by one space."""
    return " ".join(sorted(_tokens(name)))


class NameForms(NamedTuple):
    """A name as scored: ``normal`` (sorted words) and ``written`` (its words in written
    order, run together), which is how a name in an unspaced script (Han, Kana) reads once
    transliterated: 中兴通讯 is ``zhongxingtongxun``, one word, where a list writes
    ``Zhongxing Tongxun``."""

    normal: str
    written: str


def name_forms(name: str) -> NameForms:
    tokens = _tokens(name)
    return NameForms(normal=" ".join(sorted(tokens)), written="".join(tokens))
