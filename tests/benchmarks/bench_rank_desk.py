"""The ranked desk's GUI stalls: the longest event-loop gap while the ranker thread
featurises and ranks a view (For you), retrains after decisions, and ranks again warm; each
phase lasts until the list's figures for the new model have arrived too (gui/for_you.py).

    python tests/benchmarks/bench_rank_desk.py --n 10000      # offscreen; library cached in /tmp

Target: the GUI's longest stall while retraining <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: shared helpers
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    from bench_gui import build_library, guard_bool_refcount, pct, run_until
    from qt_heartbeat import Heartbeat

    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    guard_bool_refcount()
    cached = Path(args.dir) / f"paperdesk-bench-gui-{args.n}"
    print(f"PaperDesk ranked desk benchmark, {args.n} papers ({os.cpu_count()} CPUs, offscreen)")
    build_library(cached, args.n, index=False)
    folder = Path(tempfile.mkdtemp(prefix="paperdesk-bench-rank-")) / "library"
    shutil.copytree(cached, folder, ignore=shutil.ignore_patterns("rank"))  # featurised from scratch

    from paperdesk.core import Library
    from paperdesk.gui.app import make_app
    from paperdesk.gui.main_window import MainWindow
    from paperdesk.gui.settings import open_settings

    app = make_app()
    lib = Library.open(folder)
    rng = random.Random(5)
    ids = lib.paper_ids(order="date")
    liked = rng.sample(ids, 60)
    lib.star(liked[:40])
    lib.archive([p for p in rng.sample(ids, 120) if p not in liked][:80])
    settings = open_settings(str(Path(tempfile.mkdtemp()) / "bench.ini"))
    window = MainWindow(lib, settings, remember=False, index_on_start=False, refresh_feeds=False)
    window.resize(1280, 800)
    window.show()
    window.go_to("inbox")
    run_until(app, window.jobs.idle, lambda: not window.jobs.busy)

    def measure(what: str, start, done) -> None:
        heartbeat = Heartbeat()
        heartbeat.start()
        t = time.perf_counter()
        start()
        run_until(app, window.papers.reloaded, done)
        elapsed = time.perf_counter() - t
        heartbeat.stop()
        gaps = heartbeat.gaps
        print(f"  {what}: {elapsed * 1000:.0f} ms; longest GUI stall {max(gaps, default=0):.0f} ms "
              f"(heartbeat 5 ms; p99 gap {pct(gaps, 0.99) if gaps else 0:.0f} ms)")

    for_you = window.for_you

    def ranked():  # ranked, and the list's figures (and the model's words) made after it
        made = for_you.figures
        return lambda: window.papers.ranking != "" and not window.papers.busy and for_you.figures is not made

    measure("For you + figures, first (featurises the library)", window.papers.rank_again, ranked())
    print(f"    {window.papers.ranking}")
    measure("For you + figures, warm", window.papers.rank_again, ranked())

    for_you.retrain_timer.setInterval(0)  # the debounce is not what is measured
    made = for_you.figures
    decided = liked[40:50]
    # A retraining ends by making new figures from the new model.
    measure("10 stars, then the background retraining and new figures",
            lambda: window.jobs.write("bench stars", lambda wlib: wlib.star(decided)),
            lambda: for_you.figures is not made)
    measure("For you + figures after the retraining", window.papers.rank_again, ranked())
    print(f"    {window.papers.ranking}")
    window.close()
    lib.close()
    shutil.rmtree(folder.parent, ignore_errors=True)  # the copy (~190 MB at 100k papers); the build is kept
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
