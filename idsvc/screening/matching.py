"""Scoring a name against a list's names (both in the forms of
:func:`idsvc.screening.names.name_forms`). Pure: no I/O, so the fixture test and the
benchmark measure exactly what production runs.

The score (0..100) is the larger of two rapidfuzz scores:

- ``token_sort_ratio``: edit similarity of the sorted tokens: typos and transliteration
  variants (``Rosoboronexprt``), at any word order;
- containment: 100 when every word of the *listed* name is in the screened name: front
  companies add words to a listed name (``Rosoboronexport Trading``). One way only: an
  applicant whose few generic words all occur in a longer listed name (``Baltic Logistics``
  against ``Baltic Maritime Logistics``) is scored by edit similarity alone. Counted only
  when the listed name has at least ``_DISTINCTIVE`` letters: a short name (``Bank``,
  ``Sigma``) is contained in thousands of innocent names.

Names shorter than ``_SHORT`` letters match only when equal: with so few letters a single
edit turns one real company into another.

A screened name of one word (how a name in an unspaced script reads once transliterated)
is also compared, by edit similarity, with each listed name's words in written order run
together: ``zhongxingtongxun`` against ``Zhongxing Tongxun``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rapidfuzz import fuzz, process

from idsvc.screening.names import name_forms

__all__ = ["NameIndex", "score_names"]

_SHORT = 5
_DISTINCTIVE = 8


def _letters(name: str) -> int:
    return len(name) - name.count(" ")


def score_names(screened: str, listed: str) -> float:
    """How much ``screened`` (an applicant's name) resembles ``listed``, 0..100."""
    if not screened or not listed:
        return 0.0
    if min(_letters(screened), _letters(listed)) < _SHORT:
        return 100.0 if screened == listed else 0.0
    if _letters(listed) >= _DISTINCTIVE and set(listed.split()) <= set(screened.split()):
        return 100.0
    return float(fuzz.token_sort_ratio(screened, listed))


def _score_written(screened: str, listed: str) -> float:
    if min(len(screened), len(listed)) < _SHORT:
        return 100.0 if screened == listed else 0.0
    return float(fuzz.ratio(screened, listed))


class NameIndex:
    """A list's names, searched for every name scoring at least a threshold."""

    def __init__(self, names: Sequence[str]) -> None:
        forms = [name_forms(name) for name in names]
        self._names = [f.normal for f in forms]
        self._written = [f.written for f in forms]

    def __len__(self) -> int:
        return len(self._names)

    def search(self, name: str, threshold: float) -> list[tuple[int, float]]:
        """(position in ``names``, score) of every listed name that ``name`` scores
        ``threshold`` or more against, best first."""
        query = name_forms(name)
        if not query.normal or not self._names:
            return []
        # The C scorers narrow the list to a few candidates; the guards of score_names
        # then decide on those few in Python.
        candidates = self._candidates(query.normal, self._names, threshold, _WORD_SCORERS)
        one_word = " " not in query.normal
        if one_word:
            candidates |= self._candidates(query.written, self._written, threshold, (fuzz.ratio,))
        hits = []
        for pos in candidates:
            score = score_names(query.normal, self._names[pos])
            if one_word:
                score = max(score, _score_written(query.written, self._written[pos]))
            if score >= threshold:
                hits.append((pos, score))
        return sorted(hits, key=lambda hit: (-hit[1], hit[0]))

    @staticmethod
    def _candidates(
        query: str, names: list[str], threshold: float, scorers: tuple[Any, ...]
    ) -> set[int]:
        found: set[int] = set()
        for scorer in scorers:
            for _, _, position in process.extract(
                query, names, scorer=scorer, processor=None, score_cutoff=threshold, limit=None
            ):
                found.add(position)
        return found


_WORD_SCORERS = (fuzz.token_sort_ratio, fuzz.token_set_ratio)
