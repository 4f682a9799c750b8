"""The arXiv snapshot at scale: import, index build, a daily update, stats, disk (on demand).

    python tests/benchmarks/bench_arxiv.py --n 100000 300000 1000000 [--no-index]

Writes a synthetic snapshot of N lines in the real format (fields, versions, authors_parsed, TeX),
imports it into a fresh library (no search indexing), builds the index, then imports and indexes 500
new papers as a day's update, and times `stats`. Prints one JSON object per size.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "benchmarks")]

from synth_search import FIRST, LAST, vocabulary  # noqa: E402

from paperdesk.core import Library  # noqa: E402
from paperdesk.core.arxiv_snapshot import import_snapshot  # noqa: E402

CATS = ["cs.CL", "cs.LG", "cs.CV", "cs.AI", "stat.ML", "cs.RO", "math.OC", "cs.IR", "eess.AS", "cs.CR"]


def write_snapshot(path: Path, first: int, n: int, words: list[str]) -> None:
    rng = random.Random(first)
    with open(path, "w", encoding="utf-8") as fh:
        for k in range(first, first + n):
            title = " ".join(rng.choice(words) for _ in range(rng.randint(6, 14)))
            abstract = " ".join(rng.choice(words) for _ in range(rng.randint(120, 260)))
            authors = [[rng.choice(LAST), rng.choice(FIRST), ""] for _ in range(rng.randint(1, 6))]
            versions = [{"version": f"v{v}", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}
                        for v in range(1, rng.randint(1, 3) + 1)]
            fh.write(json.dumps({
                "id": f"{1000 + k // 100000:04d}.{k % 100000:05d}",
                "submitter": "x", "authors": ", ".join(f"{a[1]} {a[0]}" for a in authors),
                "title": f"{title.capitalize()} $O(n^{k % 7})$ {k}", "comments": None, "journal-ref": None,
                "doi": None, "report-no": None, "categories": " ".join(rng.sample(CATS, rng.randint(1, 3))),
                "license": None, "abstract": abstract, "versions": versions,
                "update_date": f"20{10 + k % 15}-0{1 + k % 9}-1{k % 9}", "authors_parsed": authors,
            }) + "\n")


def dir_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 1)


def measure(n: int, workdir: Path, index: bool) -> dict:
    words = vocabulary()
    snap = workdir / f"snapshot-{n}.jsonl"
    if not snap.exists():
        write_snapshot(snap, 0, n, words)
    folder = workdir / f"lib-{n}"
    out: dict = {"papers": n, "snapshot_mb": round(snap.stat().st_size / 1e6, 1)}
    with Library.open(folder) as lib:
        start = time.perf_counter()
        report = import_snapshot(lib, snap)
        out["import_s"] = round(time.perf_counter() - start, 1)
        out["imported"] = report.papers
        out["database_mb"] = dir_mb(folder)
        start = time.perf_counter()
        lib.stats()
        out["stats_ms"] = round(1000 * (time.perf_counter() - start), 1)
        start = time.perf_counter()
        lib.category_counts()  # the sidebar's Categories group
        out["category_counts_ms"] = round(1000 * (time.perf_counter() - start), 1)
        if index:
            start = time.perf_counter()
            lib.index.rebuild()
            out["index_build_s"] = round(time.perf_counter() - start, 1)
            out["index_mb"] = dir_mb(folder / "index")
            daily = workdir / f"daily-{n}.jsonl"
            write_snapshot(daily, n, 500, words)  # the next 500 ids
            start = time.perf_counter()
            out["daily_new"] = import_snapshot(lib, daily).new
            lib.drain_index()
            out["daily_500_import_and_index_s"] = round(time.perf_counter() - start, 2)
    print(json.dumps(out), file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[10_000])
    ap.add_argument("--no-index", action="store_true")
    ap.add_argument("--workdir", type=Path)
    args = ap.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-arxiv-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(json.dumps({str(n): measure(n, workdir, not args.no_index) for n in args.n}, indent=1))


if __name__ == "__main__":
    main()
