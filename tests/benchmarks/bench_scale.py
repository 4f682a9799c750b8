"""Scale benchmark: search, FTS5, the desk and `paperdesk stats` at several sizes, side by side.

    python tests/benchmarks/bench_scale.py --n 100000 300000 1000000 --dir /work/scale
                                           [--skip search gui stats] [--queries 40] [--fts5-queries K]
                                           [--for-you]
                                           [--out FILE]

One library per size, DIR/search-N, built once by `bench_search.py --keep DIR` (synthetic papers with
the seed digests' vocabulary) with its search index, and reused by every part: `bench_search`
(index build figures, query classes p95 against SQLite FTS5 on the same texts), `bench_gui --library`
(on a copy: cold start, view switch, keystroke, scroll, stall during a 10k import, RSS) and
`paperdesk stats` (a new process, as typed). Each part runs in its own process, one after another;
before each, a pure-Python loop is timed (the machine is shared: read every figure beside it).

Goals (issue 23, at 1M papers): index build <= 10 min; every search class p95 <= 50 ms and below
FTS5's; cold start <= 1 s, view switch <= 50 ms, keystroke p95 <= 50 ms, scroll p95 <= 16 ms, longest
stall during a 10k import <= 50 ms, RSS <= 500 MB; `stats` instant.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

GOALS = {
    "index_build_s": "<= 600", "index_mb": "", "db_mb": "",
    "search_worst_p95_ms": "<= 50", "search_worst_fts5_ratio": "< 1",
    "cold_start_ms": "<= 1000", "switch_max_ms": "<= 50", "keystroke_p95_ms": "<= 50",
    "scroll_p95_ms": "<= 16", "import_stall_max_ms": "<= 50", "rss_mb": "<= 500", "stats_cli_ms": "instant",
    # --for-you: the desk after its first For you ranking (features made, models trained)
    "for_you_s": "", "for_you_stall_max_ms": "", "for_you_rss_mb": "<= 500", "for_you_peak_mb": "",
}


def loop_s() -> float:
    """The calibration loop, in a fresh process as the parts run."""
    out = subprocess.run([sys.executable, "-c", "import time;t=time.perf_counter();"
                          "sum(range(20_000_000));print(time.perf_counter()-t)"],
                         capture_output=True, text=True, check=True).stdout
    return round(float(out), 2)


def run(args: list[str]) -> tuple[str, float]:
    t = time.perf_counter()
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout, time.perf_counter() - t


def search_part(n: int, folder: Path, queries: int, fts5_queries: int | None) -> dict:
    more = ["--fts5-queries", str(fts5_queries)] if fts5_queries else []
    out, _ = run([str(HERE / "bench_search.py"), "--n", str(n), "--keep", str(folder.parent), "--reuse",
                  "--queries", str(queries), *more])
    found = json.loads(out)
    latency = found.pop("latency")
    worst = max(latency, key=lambda c: latency[c]["p95_ms"])
    ratio = max(latency, key=lambda c: latency[c]["fts5_ratio"])
    return {**found, "classes": latency,
            "search_worst_p95_ms": f"{latency[worst]['p95_ms']} ({worst})",
            "search_worst_fts5_ratio": f"{latency[ratio]['fts5_ratio']} ({ratio})"}


def gui_part(folder: Path, for_you: bool = False) -> dict:
    extra = ["--for-you"] if for_you else []
    out, _ = run([str(HERE / "bench_gui.py"), "--library", str(folder), "--json", *extra])
    lines = out.strip().splitlines()
    return {**json.loads(lines[-1]), "gui_text": lines[:-1]}


def stats_part(folder: Path) -> dict:
    times = []
    for _ in range(3):
        _, took = run(["-m", "paperdesk", "--library", str(folder), "stats"])
        times.append(took)
    code = ("import sys,time;from paperdesk.core import Library;lib=Library.open_reader(sys.argv[1]);"
            "lib.stats();t=time.perf_counter();lib.stats();print((time.perf_counter()-t)*1000)")
    out, _ = run(["-c", code, str(folder)])
    return {"stats_cli_ms": round(min(times) * 1000), "stats_ms": round(float(out), 1)}


def table(results: dict[int, dict]) -> str:
    sizes = list(results)
    rows = ["loop_s", *GOALS]
    classes = sorted({c for r in results.values() for c in r.get("classes", {})})
    head = f"{'':32}" + "".join(f"{n:>22,}" for n in sizes) + "   goal (1M)"
    lines = [head]
    for key in rows:
        cells = [str(results[n].get(key, "-")) for n in sizes]
        lines.append(f"{key:32}" + "".join(f"{c:>22}" for c in cells) + f"   {GOALS.get(key, '')}")
    for c in classes:
        cells = []
        for n in sizes:
            got = results[n].get("classes", {}).get(c)
            cells.append(f"{got['p95_ms']} / {got['fts5_p95_ms']}" if got else "-")
        lines.append(f"{'p95 ' + c + ' (ours / FTS5)':32}" + "".join(f"{x:>22}" for x in cells))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    ap.add_argument("--dir", type=Path, required=True, help="where the libraries are (or are built)")
    ap.add_argument("--skip", nargs="*", default=[], choices=["search", "gui", "stats"])
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--fts5-queries", type=int, help="FTS5 answers only the first K queries a class "
                    "(at 1M papers it takes seconds a query)")
    ap.add_argument("--out", type=Path, help="also write every figure here as JSON")
    ap.add_argument("--for-you", action="store_true", help="the desk's part ends with a first For you "
                    "ranking (bench_gui --for-you): its time, longest stall, RSS after and peak")
    args = ap.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    results: dict[int, dict] = {}
    for n in args.n:
        folder = args.dir / f"search-{n}"
        found: dict = {"loops_s": []}
        parts = [("search", lambda: search_part(n, folder, args.queries, args.fts5_queries)),  # noqa: B023
                 ("stats", lambda: stats_part(folder)), ("gui", lambda: gui_part(folder, args.for_you))]  # noqa: B023
        for name, part in parts:
            if name in args.skip:
                continue
            found["loops_s"].append(loop_s())
            started = time.perf_counter()
            try:
                found.update(part())
            except RuntimeError as exc:
                found[f"{name}_error"] = str(exc)
                print(f"{n}: {name} failed: {exc}", file=sys.stderr)
            print(f"{n}: {name} done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        found["loop_s"] = "/".join(str(x) for x in found["loops_s"])
        results[n] = found
        if args.out:
            args.out.write_text(json.dumps({"commit": commit, "results": results}, indent=1))
    print(f"commit {commit}; loop_s = the calibration loop before each part (search/stats/gui); "
          f"an idle machine runs it in ~0.3 s")
    print(table(results))


if __name__ == "__main__":
    main()
