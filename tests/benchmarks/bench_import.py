"""Import benchmark (issue 3): bulk import, re-import, daily import of 100 new papers. Prints JSON.

    python tests/benchmarks/bench_import.py --n 1000 10000 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_digests import write_digests

from paperdesk.core import Library

TODAY = dt.date(2026, 11, 23)


def measure(n: int, workdir: Path) -> dict:
    digests = write_digests(workdir / f"digests-{n}", n)
    daily = write_digests(workdir / f"daily-{n}", 100, first=n)
    lib = Library.open(workdir / f"lib-{n}")
    try:
        t0 = time.perf_counter()
        report = lib.import_paths(digests, today=TODAY)
        bulk = time.perf_counter() - t0
        assert report.ok and report.new == n, report.summary()
        t0 = time.perf_counter()
        again = lib.import_paths(digests, today=TODAY)
        reimport = time.perf_counter() - t0
        assert again.new == 0 and lib.stats()["papers"] == n
        t0 = time.perf_counter()
        day = lib.import_paths(daily, today=TODAY)
        daily_s = time.perf_counter() - t0
        assert day.new == 100
        db_mb = lib.path.stat().st_size / 1e6
    finally:
        lib.close()
    return {"papers": n, "files": len(digests), "bulk_import_s": round(bulk, 3),
            "papers_per_s": round(n / bulk), "reimport_s": round(reimport, 3),
            "daily_100_s": round(daily_s, 3), "db_mb": round(db_mb, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[1000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paperdesk-bench-") as tmp:
        results = [measure(n, Path(tmp)) for n in args.n]
    print(json.dumps({"benchmark": "import", "results": results}, indent=2))


if __name__ == "__main__":
    main()
