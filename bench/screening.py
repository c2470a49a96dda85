"""Restricted-party screening: precision and recall on the fixture list
(tests/screening/fixtures) at a sweep of thresholds, and the time to screen one name
against a list of the Consolidated Screening List's size.

    python bench/screening.py [--entries 30000] [--import-entries 12000 --orgs 200]

The import part needs a PostgreSQL (IDSVC_TEST_DATABASE_URL, or an embedded one); skip it
with ``--import-entries 0``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import random
import statistics
import time
import uuid
from pathlib import Path

from idsvc import db
from idsvc.clock import utc_now
from idsvc.orgs.vetting.screening_hits import rescreen_all
from idsvc.screening.csl import parse_csl
from idsvc.screening.lists import import_snapshot, is_party
from idsvc.screening.matching import NameIndex
from idsvc.settings import ScreeningSettings

try:
    from bench._pg import scratch_database
except ModuleNotFoundError:  # run as a script: bench/ is on sys.path, not the repo root
    from _pg import scratch_database  # type: ignore[no-redef]

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "screening" / "fixtures"


def fixture_index() -> tuple[NameIndex, list[str]]:
    rows = parse_csl((FIXTURES / "csl_sample.csv").read_bytes())
    names, ids = [], []
    for row in rows:
        if is_party(row.type):
            for name in dict.fromkeys((row.name, *row.alt_names)):
                names.append(name)
                ids.append(row.entry_key.split("|", 1)[1])
    return NameIndex(names), ids


def accuracy(threshold: float) -> tuple[int, int, int, int]:
    """(true hits, false hits, misses, near misses) on the fixture."""
    index, ids = fixture_index()
    true_hits = false_hits = misses = negatives = 0
    with (FIXTURES / "variants.csv").open(newline="", encoding="utf-8") as f:
        for variant in csv.DictReader(f):
            found = {ids[p] for p, _ in index.search(variant["screened_name"], threshold)}
            expected = variant["expected"]
            if expected:
                true_hits += expected in found
                misses += expected not in found
            else:
                negatives += 1
            false_hits += len(found - {expected})
    return true_hits, false_hits, misses, negatives


def synthetic_list(entries: int, seed: int = 7) -> list[str]:
    """Company-like names from a fixed vocabulary: realistic token lengths and overlaps."""
    rng = random.Random(seed)
    words = [
        "volga", "baltic", "northern", "star", "golden", "lotus", "precision", "instruments",
        "trading", "energy", "maritime", "logistics", "aerospace", "electronics", "micro",
        "quantum", "computing", "advanced", "materials", "composite", "technik", "horizon",
        "orient", "pearl", "kaspian", "andes", "shenzhen", "keyuan", "tehran", "samara",
        "industrial", "systems", "solutions", "import", "export", "machinery", "chemical",
        "nuclear", "defence", "optics", "laser", "marine", "pacific", "atlantic", "east",
    ]  # fmt: skip
    suffixes = ["Ltd", "LLC", "GmbH", "OOO", "S.A.", "Co., Ltd.", "JSC", "FZE", ""]
    names = []
    for i in range(entries):
        tokens = [*rng.sample(words, rng.randint(2, 4)), f"x{i:05d}"[: rng.randint(0, 6)]]
        names.append(" ".join(tokens) + " " + rng.choice(suffixes))
    return names


def synthetic_csl(entries: int) -> bytes:
    """A CSL-format file of ``entries`` rows, each with two alternate names."""
    names = synthetic_list(entries * 3, seed=13)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["_id", "source", "type", "programs", "name", "alt_names", "addresses"])
    for i in range(entries):
        writer.writerow(
            [f"b-{i}", "Entity List (EL) - Bureau of Industry and Security", "Entity",
             "EAR", names[3 * i].title(), f"{names[3 * i + 1]}; {names[3 * i + 2]}",
             "Somewhere"]
        )  # fmt: skip
    return out.getvalue().encode()


_ORG = """
INSERT INTO organisations (id, legal_name, country, contact_email, status, created_at, updated_at)
VALUES ($1, $2, 'US', 'c@example.com', 'approved', $3, $3)
"""


async def import_and_rescreen(entries: int, orgs: int) -> None:
    data = synthetic_csl(entries)
    async with scratch_database() as url:
        conn = await db.connect(url)
        try:
            now = utc_now()
            async with conn.transaction():
                for i in range(orgs):
                    await conn.execute(_ORG, uuid.uuid4(), f"Bench Organisation {i} Inc", now)
            start = time.perf_counter()
            rows = parse_csl(data)
            parsed = time.perf_counter()
            async with conn.transaction():
                snapshot = await import_snapshot(conn, data=data, rows=rows, actor="bench", now=now)
                stored = time.perf_counter()
                await rescreen_all(conn, threshold=ScreeningSettings().threshold, now=now)
            done = time.perf_counter()
        finally:
            await conn.close()
    print(
        f"import of {snapshot.entries} entries ({snapshot.names} names, {len(data) // 1024} KiB):"
        f" parse {parsed - start:.2f} s, store {stored - parsed:.2f} s;"
        f" re-screening {orgs} organisations {done - stored:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=30_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--import-entries", type=int, default=12_000)
    parser.add_argument("--orgs", type=int, default=200)
    args = parser.parse_args()

    default = ScreeningSettings().threshold
    print("fixture: threshold  precision  recall  (true hits / false hits / misses; near misses)")
    for threshold in (80.0, 84.0, 86.0, 88.0, 90.0, 92.0, 95.0):
        tp, fp, fn, negatives = accuracy(threshold)
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn)
        mark = "  <- default" if threshold == default else ""
        print(
            f"         {threshold:5.1f}     {precision:6.3f}   {recall:6.3f}"
            f"  ({tp} / {fp} / {fn}; {negatives}){mark}"
        )

    index = NameIndex(synthetic_list(args.entries))
    rng = random.Random(11)
    queries = [f"{rng.choice(['Acme', 'Volga'])} Precision Trading {i} Ltd"
               for i in range(args.queries)]  # fmt: skip
    times = []
    for query in queries:
        start = time.perf_counter()
        index.search(query, default)
        times.append(time.perf_counter() - start)
    print(
        f"screening one name against {len(index)} listed names: "
        f"median {statistics.median(times) * 1000:.2f} ms, "
        f"p95 {sorted(times)[int(len(times) * 0.95)] * 1000:.2f} ms"
    )
    if args.import_entries:
        asyncio.run(import_and_rescreen(args.import_entries, args.orgs))


if __name__ == "__main__":
    main()
