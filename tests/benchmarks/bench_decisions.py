"""A search using a triage decision (`is:inbox`, `is:archived`, `is:starred`) right after the
library changed: a star, an archive or a small import made by another connection (the desk's
writer; the desk searches on its reader), and by the searching connection itself.

    python tests/benchmarks/bench_decisions.py --n 1000                 # a fresh library (smoke)
    python tests/benchmarks/bench_decisions.py --library DIR [--rounds 20]
    python tests/benchmarks/bench_decisions.py --library DIR --views [--whole-source]

--library uses a library as it is (bench_search's kept ones: make a copy, it is changed; each
round's change is undone after, so the copy ends with the papers and decisions it had). Prints
JSON: per kind of change, the first decision search after it (p50/p95/max ms), and the same
search again (cached), with a calibration loop's time before and after.

--views: a search within a digest's view (the biggest source; with --whole-source first a source
listing every paper, as an arXiv snapshot's does, written by SQL, kept) right after a star of one of
its papers made by the writer, searched on the reader, then the same search again.
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
from paperdesk.core.view_filter import ViewFilter

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


def add_whole_source(folder: Path) -> None:
    """A source listing every paper (an arXiv snapshot's), unless the library has one."""
    with Library.open(folder) as lib, lib.transaction() as conn:
        papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
        if conn.execute("SELECT 1 FROM sources WHERE paper_count = ?", (papers,)).fetchone():
            return
        source = conn.execute(
            "INSERT INTO sources (kind, name, origin, content_hash, paper_count, imported_at) "
            "VALUES ('arxiv', 'every paper', 'bench', 'bench-whole', ?, '2026-12-05') ", (papers,)).lastrowid
        conn.execute("INSERT INTO provenance (paper_id, source_id, position, seen_at) "
                     "SELECT id, ?, rowid, '2026-12-05' FROM papers", (source,))


def measure_views(folder: Path, rounds: int) -> dict:
    rng = random.Random(23)
    words = [w for w in Papers().words[200:300] if w.isalpha()][:60]
    reader, writer = Library.open_reader(folder), Library.open(folder)
    sources = writer.conn.execute("SELECT id, paper_count FROM sources ORDER BY paper_count DESC").fetchall()
    out: dict = {"loop_s_before": loop_s()}
    for source, size in (sources[0], next(s for s in sources[1:] if s[1] <= 5000)):
        where = ViewFilter(source_id=source)
        members = [r[0] for r in writer.conn.execute(
            "SELECT v.paper_id FROM provenance v JOIN papers p ON p.id = v.paper_id "
            "WHERE v.source_id = ? AND p.status = 'inbox' AND p.starred = 0 LIMIT 500", (source,))]
        t = time.perf_counter()
        reader.search.run(words[0], drain=False, within=where)
        first_ms = (time.perf_counter() - t) * 1000
        for word in words:  # each word's postings read once: what follows times the view
            reader.search.run(word, drain=False, within=where)
        after_star, again = [], []
        for _ in range(rounds):
            before = writer.history(1)[0]
            writer.star([rng.choice(members)])
            word = rng.choice(words)
            for times in (after_star, again):
                t = time.perf_counter()
                reader.search.run(word, drain=False, within=where)
                times.append((time.perf_counter() - t) * 1000)
            latest = writer.history(1)[0]  # (an undone operation's id is used again)
            assert (latest.id, latest.undone) != (before.id, before.undone) and not latest.undone
            writer.undo(latest.id)
        out[f"source of {size} papers"] = {"first_search_ms": round(first_ms, 1),
                                           "after_a_star": summary(after_star), "again": summary(again)}
    out["loop_s_after"] = loop_s()
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
    parser.add_argument("--views", action="store_true", help="a search within a digest's view after a star")
    parser.add_argument("--whole-source", action="store_true", help="--views: add a source of every paper")
    args = parser.parse_args()

    def run(folder: Path) -> dict:
        if not args.views:
            return measure(folder, args.rounds, args.import_size, args.samples)
        if args.whole_source:
            add_whole_source(folder)
        return measure_views(folder, args.rounds)

    if args.library:
        result = run(args.library)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            make_library(Path(tmp), args.n or 1000)
            result = run(Path(tmp))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
