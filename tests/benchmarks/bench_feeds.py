"""Benchmark: refresh N local feeds of M items twice; on the second pass K answer 304, the rest changed.

    python tests/benchmarks/bench_feeds.py [--feeds 50] [--items 100] [--unchanged 30]

The feeds are served by a separate process (so the server does not compete for this process's
GIL), from a temp folder, with an ETag per file. Reports per pass: wall time, new papers, the
longest library-thread step (one feed's import + health write: what would block the GUI if the
merge ran on its thread), the longest stall of a 10 ms heartbeat thread (GIL pressure from the
workers: what a GUI thread would feel if the whole refresh ran in a background thread), peak
traced Python memory (tracemalloc) and the process's max RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from feed_server import serve_folder  # noqa: E402

from paperdesk.core import Library  # noqa: E402
from paperdesk.core.feeds import refresh  # noqa: E402


def feed_xml(feed: int, items: int, version: int) -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
             f"<title>Bench feed {feed}</title><link>http://bench.local/{feed}</link>"]
    for i in range(items):
        n = i + version * 10  # a changed feed drops 10 old items and lists 10 new ones
        topic = hashlib.sha1(f"{feed}-{n}".encode()).hexdigest()[:8]
        title = f"Feed {feed} paper {n}: scalable methods for topic {topic}"
        parts.append(
            f"<item><title>{title}</title><link>http://bench.local/{feed}/{n}</link>"
            f"<pubDate>Mon, 0{1 + n % 9} Jun 2026 10:00:00 GMT</pubDate>"
            f"<description>&lt;p&gt;We study &lt;b&gt;problem {n}&lt;/b&gt; in depth. "
            + "Long abstract text with several sentences about the method and results. " * 8
            + "&lt;script&gt;alert(1)&lt;/script&gt;&lt;/p&gt;</description></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


class Heartbeat(threading.Thread):
    """Wakes every 10 ms and records how late it was: a stand-in for a GUI event loop."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.worst = 0.0

    def run(self) -> None:
        last = time.perf_counter()
        while not self.stop.wait(0.01):
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - 0.01)
            last = now


def run_pass(lib: Library, label: str, trace: bool) -> None:
    steps: list[float] = []
    original = refresh.apply_outcome

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            steps.append(time.perf_counter() - start)

    refresh.apply_outcome = timed
    beat = Heartbeat()
    beat.start()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        results = refresh.refresh_feeds(lib, due_only=False)
    finally:
        wall = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory() if trace else (0, 0)
        tracemalloc.stop()
        beat.stop.set()
        beat.join()
        refresh.apply_outcome = original
    statuses = {s: sum(r.status == s for r in results) for s in ("ok", "not-modified", "error")}
    print(f"{label}: {wall:.2f} s wall, {statuses}, {sum(r.new for r in results)} new papers, "
          f"longest library-thread step {max(steps) * 1000:.0f} ms "
          f"(mean {sum(steps) / len(steps) * 1000:.0f} ms), heartbeat worst stall {beat.worst * 1000:.0f} ms"
          + (f", peak traced memory {peak / 2**20:.1f} MiB" if trace else ""))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=50)
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--unchanged", type=int, default=30)
    ap.add_argument("--trace-memory", action="store_true",
                    help="also report tracemalloc's peak (slows everything down about 2x)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "feeds"
        root.mkdir()
        for f in range(args.feeds):
            (root / f"f{f}.xml").write_bytes(feed_xml(f, args.items, 0))
        with serve_folder(root) as url:
            lib = Library.open(Path(tmp) / "lib")
            for f in range(args.feeds):
                lib.feeds.add(f"{url}/f{f}.xml", f"Feed {f}")
            print(f"{args.feeds} feeds x {args.items} items; second pass: {args.unchanged} unchanged (304), "
                  f"{args.feeds - args.unchanged} changed (10 new items each)")
            run_pass(lib, "pass 1 (all new)", args.trace_memory)
            for f in range(args.unchanged, args.feeds):
                (root / f"f{f}.xml").write_bytes(feed_xml(f, args.items, 1))
            run_pass(lib, "pass 2", args.trace_memory)
            print(f"library: {lib.stats()['papers']} papers; max RSS of this process "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
            lib.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
