"""The arXiv snapshot at scale: import, index build, a daily update, stats, disk (on demand).

    python tests/benchmarks/bench_arxiv.py --n 100000 300000 1000000 [--no-index]
    python tests/benchmarks/bench_arxiv.py --daily --n 100000 --workdir /work/bench-daily [--profile]

Writes a synthetic snapshot of N lines in the real format (fields, versions, authors_parsed, TeX),
imports it into a fresh library (no search indexing), builds the index, then imports and indexes 500
new papers as a day's update, and times `stats`. Prints one JSON object per size.

`--daily`: the day's 500 new papers alone, on a library of N papers with its index built once and
kept in the workdir (`base-N`); each run works on a copy. Timed end to end both ways a user gets
them: the command line (`paperdesk import-arxiv` then `paperdesk index update`, two processes) and
the desk (the import as a writer job, i.e. a `Library` with `defer_indexing`, then the indexer child
`paperdesk index update --background`); then in-process phases (import, drain) with `--profile`
printing the drain's and the import's top functions. Also the database's bytes per table/index
(`dbstat`) of the base library. Each figure has its CPU time beside the wall time: on a machine
shared with other work the CPU time is the steadier one.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "benchmarks")]

from synth_search import FIRST, LAST, vocabulary  # noqa: E402

from paperdesk.core import Library  # noqa: E402
from paperdesk.core.arxiv_snapshot import import_snapshot  # noqa: E402
from paperdesk.core.search.whoosh_internals import segment_ids  # noqa: E402

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
            lib.search.rebuild()
            out["index_build_s"] = round(time.perf_counter() - start, 1)
            out["index_mb"] = dir_mb(folder / "index")
            daily = workdir / f"daily-{n}.jsonl"
            write_snapshot(daily, n, 500, words)  # the next 500 ids
            start = time.perf_counter()
            out["daily_new"] = import_snapshot(lib, daily).new
            lib.search.update()
            out["daily_500_import_and_index_s"] = round(time.perf_counter() - start, 2)
    print(json.dumps(out), file=sys.stderr)
    return out


def loop_s() -> dict:
    """A pure-Python loop's wall and CPU time: the machine's load beside every figure (0.28 s
    when quiet; its CPU time stays ~0.23 s under load, so CPU times read as a quiet machine's)."""
    start, cpu = time.perf_counter(), time.process_time()
    sum(range(20_000_000))
    return {"wall": round(time.perf_counter() - start, 2), "cpu": round(time.process_time() - cpu, 2)}


def db_breakdown(db: Path) -> dict[str, float]:
    """MB per table and index (sqlite's dbstat)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    finally:
        conn.close()
    return {name: round(size / 1e6, 1) for name, size in rows}


def base_library(n: int, workdir: Path) -> Path:
    """A library of n snapshot papers with its index, built once and kept."""
    folder = workdir / f"base-{n}"
    if (folder / "index").is_dir() and (folder / "BUILT").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    snap = workdir / f"snapshot-{n}.jsonl"
    if not snap.exists():
        write_snapshot(snap, 0, n, vocabulary())
    with Library.open(folder) as lib:
        start = time.perf_counter()
        import_snapshot(lib, snap)
        print(f"base {n}: import {time.perf_counter() - start:.1f} s", file=sys.stderr)
        start = time.perf_counter()
        lib.search.rebuild()
        print(f"base {n}: index {time.perf_counter() - start:.1f} s", file=sys.stderr)
    (folder / "BUILT").write_text("yes\n")
    return folder


def _copy(base: Path, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(base, dest)
    return dest


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _cli(*args: str) -> tuple[float, float]:
    """A paperdesk command's wall time and CPU time (on a shared machine the CPU time is the
    steadier figure: it leaves out the time spent waiting for a core)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-m", "paperdesk", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, _children_cpu() - cpu


def _top(prof: cProfile.Profile, count: int = 25) -> str:
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(count)
    return out.getvalue()


def daily(n: int, workdir: Path, profile: bool, ways: list[str], days: int = 1) -> dict:
    base = base_library(n, workdir)
    day = workdir / f"daily-{n}.jsonl"
    if not day.exists():
        write_snapshot(day, n, 500, vocabulary())  # the next 500 ids
    out: dict = {"papers": n, "loop_s_before": loop_s()}
    run = workdir / f"run-{n}"
    if "cli" in ways:
        _copy(base, run)
        (imp, imp_cpu), (idx, idx_cpu) = (_cli("--library", str(run), "import-arxiv", str(day)),
                                          _cli("--library", str(run), "index", "update"))
        out["cli"] = {"import_s": round(imp, 2), "index_update_s": round(idx, 2),
                      "total_s": round(imp + idx, 2), "cpu_s": round(imp_cpu + idx_cpu, 2)}
    if "desk" in ways:
        _copy(base, run)
        start, cpu = time.perf_counter(), time.process_time()
        with Library.open(run) as lib:
            lib.defer_indexing = True  # the writer's Library: the indexer child does the index
            import_snapshot(lib, day)
        job, job_cpu = time.perf_counter() - start, time.process_time() - cpu
        idx, idx_cpu = _cli("--library", str(run), "index", "update", "--background")
        out["desk"] = {"writer_job_s": round(job, 2), "indexer_child_s": round(idx, 2),
                       "total_s": round(job + idx, 2), "cpu_s": round(job_cpu + idx_cpu, 2)}
    if "phases" in ways:
        _copy(base, run)
        out["phases"] = []
        with Library.open(run) as lib:
            lib.defer_indexing = True
            lib.search.index.ix  # noqa: B018 (opened as the indexer child opens it, before its drain)
            for d in range(days):
                path = day if d == 0 else workdir / f"daily-{n}-{d}.jsonl"
                if not path.exists():
                    write_snapshot(path, n + 500 * d, 500, vocabulary())
                prof = cProfile.Profile() if profile and d == 0 else None
                start, cpu = time.perf_counter(), time.process_time()
                if prof:
                    prof.enable()
                new = import_snapshot(lib, path).new
                if prof:
                    prof.disable()
                imp, imp_cpu = time.perf_counter() - start, time.process_time() - cpu
                prof2 = cProfile.Profile() if profile and d == days - 1 else None
                start, cpu = time.perf_counter(), time.process_time()
                if prof2:
                    prof2.enable()
                drained = lib.search.update()
                if prof2:
                    prof2.disable()
                idx, idx_cpu = time.perf_counter() - start, time.process_time() - cpu
                segments = len(segment_ids(lib.search.index.ix))
                out["phases"].append({"new": new, "indexed": drained, "import_s": round(imp, 2),
                                      "import_cpu_s": round(imp_cpu, 2), "drain_s": round(idx, 2),
                                      "drain_cpu_s": round(idx_cpu, 2), "segments": segments})
                if prof:
                    print(f"== day {d + 1}: import ==\n" + _top(prof), file=sys.stderr)
                if prof2:
                    print(f"== day {d + 1}: drain ==\n" + _top(prof2, 40), file=sys.stderr)
            # What `paperdesk index update` does after its drain: merge a full tier of small segments.
            start, cpu = time.perf_counter(), time.process_time()
            merged = lib.search.index.merge()
            out["merge"] = {"segments_merged": merged, "merge_s": round(time.perf_counter() - start, 2),
                            "merge_cpu_s": round(time.process_time() - cpu, 2),
                            "segments": len(segment_ids(lib.search.index.ix))}
    shutil.rmtree(run, ignore_errors=True)
    out["loop_s_after"] = loop_s()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[10_000])
    ap.add_argument("--no-index", action="store_true")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--daily", action="store_true", help="only the day's 500 new papers (see above)")
    ap.add_argument("--ways", nargs="+", default=["cli", "desk", "phases"], choices=["cli", "desk", "phases"])
    ap.add_argument("--profile", action="store_true", help="with --daily: the phases' top functions")
    ap.add_argument("--days", type=int, default=1,
                    help="with --daily: phases of this many days in a row (segments pile up, merges)")
    ap.add_argument("--dbstat", action="store_true", help="with --daily: MB per table and index")
    args = ap.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-arxiv-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.daily:
        results = {}
        for n in args.n:
            results[str(n)] = daily(n, workdir, args.profile, args.ways, args.days)
            if args.dbstat:
                results[str(n)]["database_mb"] = db_breakdown(workdir / f"base-{n}" / "library.sqlite3")
        print(json.dumps(results, indent=1))
        return
    print(json.dumps({str(n): measure(n, workdir, not args.no_index) for n in args.n}, indent=1))


if __name__ == "__main__":
    main()
