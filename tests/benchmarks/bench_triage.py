"""Core triage latency (issue 6): star/tag/archive p95 and undo of a 1,000-paper bulk archive.

    python tests/benchmarks/bench_triage.py --n 100000
The GUI keystroke-to-reader figures come from bench_gui.py; this measures the library underneath.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_digests import write_digests

from paperdesk.core import Library


def p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20)[18] * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paperdesk-bench-") as tmp:
        lib = Library.open(Path(tmp) / "lib")
        lib.import_paths(write_digests(Path(tmp) / "d", args.n), today=dt.date(2026, 11, 23))
        ids = lib.paper_ids(status="inbox")
        timings: dict[str, list[float]] = {"star": [], "tag": [], "archive": [], "undo": []}
        for pid in ids[:200]:
            for name, action in (("star", lambda p: lib.star([p])), ("tag", lambda p: lib.tag([p], ["x"])),
                                 ("archive", lambda p: lib.archive([p])), ("undo", lambda p: lib.undo())):
                t0 = time.perf_counter()
                action(pid)
                timings[name].append(time.perf_counter() - t0)
        bulk = ids[1000:2000]
        t0 = time.perf_counter()
        lib.archive(bulk)
        archive_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        lib.undo()
        undo_s = time.perf_counter() - t0
        assert lib.count(status="archived") == 0  # each single archive above was undone
        lib.close()
    print(json.dumps({"benchmark": "triage-core", "papers": args.n,
                      **{f"{k}_p95_ms": p95(v) for k, v in timings.items()},
                      "bulk_archive_1000_s": round(archive_s, 3),
                      "undo_bulk_archive_1000_s": round(undo_s, 3)}, indent=2))


if __name__ == "__main__":
    main()
