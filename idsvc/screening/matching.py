"""Scoring a name against a list's names (both in the normal form of
:func:`idsvc.screening.names.normalize_name`). Pure: no I/O, so the fixture test and the
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
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import fuzz, process

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


class NameIndex:
    """A list's normalised names, searched for every name scoring at least a threshold."""

    def __init__(self, names: Sequence[str]) -> None:
        self._names = list(names)

    def __len__(self) -> int:
        return len(self._names)

    def search(self, query: str, threshold: float) -> list[tuple[int, float]]:
        """(position in ``names``, score) of every name scoring ``threshold`` or more,
        best first."""
        if not query or not self._names:
            return []
        # The C scorers narrow the list to a few candidates; the guards of score_names
        # then decide on those few in Python.
        candidates: set[int] = set()
        for scorer in (fuzz.token_sort_ratio, fuzz.token_set_ratio):
            for _, _, position in process.extract(
                query,
                self._names,
                scorer=scorer,
                processor=None,
                score_cutoff=threshold,
                limit=None,
            ):
                candidates.add(position)
        scored = [(pos, score_names(query, self._names[pos])) for pos in candidates]
        hits = [(pos, score) for pos, score in scored if score >= threshold]
        return sorted(hits, key=lambda hit: (-hit[1], hit[0]))
