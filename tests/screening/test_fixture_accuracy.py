"""The screening algorithm on the fixture list, at the default threshold: every variant's
exact outcome, and the precision and recall that docs/screening.md reports. A change to
normalisation, scoring or the threshold that moves any outcome fails here."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from idsvc.screening.csl import parse_csl
from idsvc.screening.lists import is_party
from idsvc.screening.matching import NameIndex
from idsvc.settings import ScreeningSettings

FIXTURES = Path(__file__).parent / "fixtures"
THRESHOLD = ScreeningSettings().threshold

# Variants the algorithm is known to miss, and near misses it is known to flag: each is a
# documented limit (docs/screening.md), not an accident.
KNOWN_MISSES = {"Ivan Petrov"}
KNOWN_FALSE_HITS = {"Horizon Trading"}


def _index() -> tuple[NameIndex, list[str]]:
    rows = parse_csl((FIXTURES / "csl_sample.csv").read_bytes())
    names, ids = [], []
    for row in rows:
        if not is_party(row.type):
            continue
        for name in dict.fromkeys((row.name, *row.alt_names)):
            names.append(name)
            ids.append(row.entry_key.split("|", 1)[1])
    return NameIndex(names), ids


def _variants() -> list[dict[str, str]]:
    with (FIXTURES / "variants.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


INDEX, IDS = _index()


@pytest.mark.parametrize("variant", _variants(), ids=lambda v: v["screened_name"])
def test_each_variant_has_its_expected_outcome(variant: dict[str, str]) -> None:
    found = {IDS[p] for p, _ in INDEX.search(variant["screened_name"], THRESHOLD)}
    name, expected = variant["screened_name"], variant["expected"]
    if name in KNOWN_MISSES:
        assert expected not in found
    elif name in KNOWN_FALSE_HITS:
        assert found
        assert not expected
    elif expected:
        assert found == {expected}
    else:
        assert found == set()


def test_precision_and_recall_are_the_documented_figures() -> None:
    true_hits = false_hits = misses = 0
    for variant in _variants():
        found = {IDS[p] for p, _ in INDEX.search(variant["screened_name"], THRESHOLD)}
        expected = variant["expected"]
        true_hits += expected in found if expected else 0
        misses += bool(expected) and expected not in found
        false_hits += len(found - {expected})
    assert (true_hits, false_hits, misses) == (24, 1, 1)
    assert round(true_hits / (true_hits + false_hits), 3) == 0.96  # precision
    assert round(true_hits / (true_hits + misses), 3) == 0.96  # recall


def test_the_vessel_entry_is_not_screened_against_organisations() -> None:
    for name in ("Orient Pearl Hotel Group", "Pearl Orient Trading"):
        assert INDEX.search(name, THRESHOLD) == []
