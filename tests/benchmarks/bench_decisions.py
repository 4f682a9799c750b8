"""A search using a triage decision (`is:inbox`, `is:archived`, `is:starred`) right after the
library changed: a star, an archive or a small import made by another connection (the desk's
writer; the desk searches on its reader), and by the searching connection itself.

    python tests/benchmarks/bench_decisions.py --n 1000                 # a fresh library (smoke)
    python tests/benchmarks/bench_decisions.py --library DIR [--rounds 20]

--library uses a library as it is (bench_search's kept ones: make a copy, it is changed; each
round's change is undone after, so the copy ends with the papers and decisions it had). Prints
JSON: per kind of change, the first decision search after it (p50/p95/max ms), and the same
search again (cached), with a calibration loop's time before and after.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import decide, pct
from synth_search import Papers

from paperdesk.core import Library

FLAGS = ("is:inbox", "is:archived", "-is:archived", "is:starred")


def loop_s() -> float:
    t = time.perf_counter()
    sum(range(20_000_000))
    return round(time.perf_counter() - t, 3)


def make_library(folder: Path, n: int) -> None:
    papers = Papers()
    with Library.open(folder) as lib:
        for batch in papers.batches(0, n):
            lib.import_batch(batch, drain=False)
        lib.search.rebuild()
        decide(lib)


def some_ids(lib: Library, rng: random.Random, k: int) -> list[str]:
    """k inbox papers without a star, picked at random by rowid (no list of every id): a star or
    an archive of them is a change (an operation to undo)."""
    top = lib.conn.execute("SELECT max(rowid) FROM papers").fetchone()[0]
    out: list[str] = []
    while len(out) < k:
        row = lib.conn.execute("SELECT id FROM papers WHERE rowid >= ? AND status = 'inbox' AND starred = 0 "
                               "LIMIT 1",
                               (rng.randint(1, top),)).fetchone()
        if row:
            out.append(row[0])
    return out


def summary(values: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(values), 1), "p95_ms": round(pct(values, 0.95), 1),
            "max_ms": round(max(values), 1)}


def measure(folder: Path, rounds: int, import_size: int, samples: bool = False) -> dict:
    rng = random.Random(23)
    papers = Papers(seed=int(time.time()))  # new papers on every run (a repeated import adds nothing)
    words = [w for w in papers.words[200:300] if w.isalpha()][:60]  # (no phrase: a-b reads word orders)
    reader = Library.open_reader(folder)  # the desk's reader thread
    writer = Library.open(folder)  # the desk's writer thread (another connection)
    counts = "SELECT count(*), sum(status = 'archived'), sum(starred) FROM papers"
    out: dict = {"loop_s_before": loop_s(), "papers_archived_starred": writer.conn.execute(counts).fetchone()}
    t = time.perf_counter()
    reader.search.run(f"{words[0]} is:inbox", drain=False)
    reader.search.run(f"{words[0]} is:starred", drain=False)
    out["first_decision_search_ms"] = round((time.perf_counter() - t) * 1000, 1)
    for word in words:  # each word's postings read once: what follows times the decisions
        reader.search.run(word, drain=False)
        writer.search.run(word, drain=False)
    first: dict[str, list[float]] = {}
    again: list[float] = []
    imported = 0

    def timed(lib: Library, kind: str) -> None:
        query = f"{rng.choice(words)} {rng.choice(FLAGS)}"
        t = time.perf_counter()
        lib.search.run(query, drain=False)
        first.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        lib.search.run(query, drain=False)
        again.append((time.perf_counter() - t) * 1000)

    def newest() -> tuple[int, bool] | None:
        latest = writer.history(1)
        return (latest[0].id, latest[0].undone) if latest else None

    def undo(before: tuple[int, bool] | None) -> None:
        """Undo the operation the change made (never an older one: a change that made none, then
        an undo, would take back the library's own decisions; ids are reused once deleted)."""
        now = newest()
        assert now is not None and now != before and not now[1], (before, now)
        writer.undo(now[0])

    for _ in range(rounds):
        pid = some_ids(writer, rng, 1)
        before = newest()
        writer.star(pid)
        timed(reader, "star, other connection")
        undo(before)
        before = newest()
        writer.archive(pid)
        timed(reader, "archive, other connection")
        undo(before)
        before = newest()
        writer.archive(pid)
        timed(writer, "archive, same connection")
        undo(before)
        before = newest()
        batch = next(papers.batches(imported, import_size, per_batch=import_size))
        imported += import_size
        writer.import_batch(batch, drain=False)
        writer.search.update()  # the desk's indexer: a new segment
        timed(reader, f"import {import_size} + index, other connection")
        undo(before)
        writer.search.update()
    out["first_after_change"] = {kind: summary(values) for kind, values in first.items()}
    if samples:
        out["samples_ms"] = {kind: [round(v, 1) for v in values] for kind, values in first.items()}
    out["again"] = summary(again)
    out["loop_s_after"] = loop_s()
    out["papers_archived_starred_after"] = writer.conn.execute(counts).fetchone()  # (as before)
    reader.close()
    writer.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, help="make a library of N papers in a temporary folder")
    parser.add_argument("--library", type=Path, help="a library folder to use (a copy: it is changed)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--import-size", type=int, default=100)
    parser.add_argument("--samples", action="store_true", help="every time measured, in order")
    args = parser.parse_args()
    if args.library:
        result = measure(args.library, args.rounds, args.import_size, args.samples)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            make_library(Path(tmp), args.n or 1000)
            result = measure(Path(tmp), args.rounds, args.import_size, args.samples)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
