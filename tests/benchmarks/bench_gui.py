"""GUI benchmark (offscreen): cold start, view switch, search keystroke, scrolling, stall during import, RSS.

    python tests/benchmarks/bench_gui.py --n 1000        # or --n 100000 (library cached in /tmp)
    python tests/benchmarks/bench_gui.py --library DIR   # an existing library (e.g. bench_search --keep's)
                                         [--json]        # last line: the figures as one JSON object

The library is copied to a temporary folder first (the 10k import must not grow the one measured).

Targets (issue 5, 100k papers): cold start <= 1.5 s, view switch <= 100 ms, search keystroke p95 <= 100 ms,
scroll a page p95 <= 16 ms, longest event-loop stall during a 10k import <= 50 ms, RSS <= 300 MB.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: shared helpers


def guard_bool_refcount() -> None:
    """PySide6 6.12 on Python 3.11 drops references it does not own (gui/qt.py makes None immortal);
    True/False were seen freed at interpreter exit after this benchmark: give them spare references
    so the run ends cleanly (Python 3.12 makes them immortal)."""
    if sys.version_info < (3, 12):
        import ctypes

        for value in (True, False):
            ctypes.c_ssize_t.from_address(id(value)).value += 1 << 40


def pct(values: list[float], q: float = 0.95) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def run_until(app, signal, condition) -> None:
    """Run the event loop until `condition()`; never spin processEvents in Python (PySide6 6.12 on
    Python 3.11 drops a reference to None per processEvents call and eventually aborts)."""
    from paperdesk.gui.qt import QEventLoop, QTimer

    if condition():
        return
    loop = QEventLoop()
    signal.connect(lambda *_: loop.quit() if condition() else None)
    poll = QTimer()  # conditions that no single signal announces (a job done AND the list re-read)
    poll.setInterval(20)
    poll.timeout.connect(lambda: loop.quit() if condition() else None)
    poll.start()
    loop.exec()
    poll.stop()


def run_until_idle() -> None:
    """Run the event loop until it has nothing left to do (the paints, layouts and deletions that
    synchronous repaints left queued), so the next phase does not pay for the last one."""
    from paperdesk.gui.qt import QAbstractEventDispatcher, QEventLoop

    loop = QEventLoop()
    QAbstractEventDispatcher.instance().aboutToBlock.connect(loop.quit)
    loop.exec()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_parts() -> str:
    """Anonymous and file-backed resident memory (mapped files count in RSS but can be dropped)."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:")):
            found[line.split(":")[0]] = int(line.split()[1]) // 1024
    return ", ".join(f"{k[3:].lower()} {v}" for k, v in found.items())


def build_library(folder: Path, n: int, index: bool = True) -> None:
    """Synthetic papers (built as SourceBatch values, no parsing) plus the search index; cached."""
    from synth_batches import synthetic_batches

    from paperdesk.core import Library

    with Library.open(folder) as lib:
        if lib.stats()["papers"] != n:
            t = time.perf_counter()
            for batch in synthetic_batches(n, per_batch=5000):
                lib.import_batch(batch)
            print(f"  built {n} papers in {time.perf_counter() - t:.1f} s")
        if index:
            t = time.perf_counter()
            if (folder / "index").is_dir() and not lib.search.current():  # made by another index version
                print(f"  rebuilt the search index ({lib.search.rebuild()} papers) in "
                      f"{time.perf_counter() - t:.1f} s")
            done = lib.search.update()
            if done:
                print(f"  indexed {done} papers for search in {time.perf_counter() - t:.1f} s")


def ready_index(folder: Path) -> bool:
    """The library's search index is current and has nothing queued (the desk would index first)."""
    from paperdesk.core import Library

    with Library.open_reader(folder) as lib:
        return lib.search.current() and not lib.search.queued()


def start_poller() -> tuple:
    """proc_poller.py watching this process from outside (see --stacks)."""
    import subprocess

    folder = Path(tempfile.mkdtemp(prefix="paperdesk-poll-"))
    script = str(Path(__file__).with_name("proc_poller.py"))
    proc = subprocess.Popen([sys.executable, script, str(os.getpid()), str(folder / "polls.txt")])
    time.sleep(0.2)
    return proc, folder


def poller_report(poller: tuple, gaps: list[float], start: float, worst: int = 3) -> str:
    """The longest stalls as the kernel saw this process's threads and the machine's CPUs."""
    import threading

    from proc_poller import read_polls

    proc, folder = poller
    (folder / "stop").touch()
    proc.wait()
    polls = read_polls(folder / "polls.txt")
    shutil.rmtree(folder, ignore_errors=True)
    names = {str(t.native_id): t.name for t in threading.enumerate()}
    names[str(threading.get_native_id())] = "GUI"
    ends = list(itertools.accumulate(gaps))
    out = [f"=== the kernel's view ({len(polls)} polls; the machine's CPU ticks of 10 ms)"]
    for i in sorted(range(len(gaps)), key=gaps.__getitem__)[-worst:][::-1]:
        t1 = start + ends[i] / 1000
        t0 = t1 - gaps[i] / 1000
        inside = [p for p in polls if t0 - 0.005 <= p[0] <= t1 + 0.005]
        if len(inside) < 2:
            out.append(f"  {gaps[i]:.0f} ms stall: too few polls")
            continue
        cpu = [b - a for a, b in zip(inside[0][1], inside[-1][1], strict=True)]
        out.append(f"  {gaps[i]:.0f} ms stall at {ends[i] / 1000:.2f} s, {len(inside)} polls; machine "
                   f"user {cpu[0] + cpu[1]} system {cpu[2]} idle {cpu[3]} iowait {cpu[4]} steal {cpu[7]}")
        for tid in inside[-1][2]:
            seen = [p[2][tid] for p in inside if tid in p[2]]
            ticks = seen[-1][1] - seen[0][1]
            states = "".join(state for state, _, _ in seen)
            waits = sorted({w for s, _, w in seen if s != "R"})
            busy = ticks or "R" in states or "D" in states or waits != ["futex_do_wait"]
            if busy or names.get(tid) == "GUI":
                out.append(f"    {names.get(tid, tid)}: cpu {ticks} ticks, states {states}, waits {waits}")
    return "\n".join(out)


def rank_inbox(app, window, results: dict[str, str], figures: dict[str, float], heartbeat_class,
               sampler_class=None) -> None:
    """The Inbox in For you order, as `r` does, until its figures are painted: the time, the GUI
    thread's longest stall meanwhile, and RSS after (the features and models stay held)."""
    window.go_to("inbox")
    run_until(app, window.papers.reloaded, lambda: not window.papers.busy)
    heartbeat = heartbeat_class()
    heartbeat.start()
    sampler = sampler_class(heartbeat) if sampler_class else None
    if sampler:
        sampler.start()
    t = time.perf_counter()
    window.papers.rank_again()
    # (until the figures are made: a library with nothing kept yet is ranked by upvotes, without them)
    run_until(app, window.papers.ranked, lambda: window.papers.by_interest and not window.papers.busy
              and bool(window.for_you.figures.sentence))
    ranked = time.perf_counter() - t
    heartbeat.stop()
    if sampler:
        sampler.stop()
        print(sampler.report(), file=sys.stderr)
    gaps = heartbeat.gaps or [0.0]
    results["For you (first ranking)"] = (f"{ranked:.1f} s, longest stall {max(gaps):.0f} ms; RSS after "
                                          f"{rss_mb():.0f} MB [{rss_parts()}], peak {peak_rss_mb():.0f} MB")
    figures["for_you_s"] = round(ranked, 1)
    figures["for_you_stall_max_ms"] = round(max(gaps))
    figures["for_you_rss_mb"] = round(rss_mb())
    figures["for_you_peak_mb"] = round(peak_rss_mb())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--no-index", action="store_true",
                        help="skip the (slow) search index build: search measures the title fallback")
    parser.add_argument("--library", type=Path, help="measure this library (a copy of it) instead of "
                        "building one; its search index must be current")
    parser.add_argument("--json", action="store_true", help="end with the figures as one JSON line")
    parser.add_argument("--for-you", action="store_true",
                        help="then rank the Inbox as `r` does (For you, the first ranking: features made or "
                        "read, models trained) and measure its time, the longest stall meanwhile, and RSS "
                        "after it with the list's figures shown")
    parser.add_argument("--stacks", action="store_true", help="sample every thread's stack while the "
                        "GUI thread stalls during the import and For you (stderr: the longest stalls' "
                        "samples)")
    args = parser.parse_args()
    guard_bool_refcount()
    if args.library:
        cached = args.library
        print(f"PaperDesk GUI benchmark, library {cached} ({os.cpu_count()} CPUs, offscreen)")
        if not args.no_index and not ready_index(cached):
            print("  its search index is missing, old or has a queue: build it first (or --no-index)")
            return 2
    else:
        cached = Path(args.dir) / f"paperdesk-bench-gui-{args.n}"
        print(f"PaperDesk GUI benchmark, {args.n} papers ({os.cpu_count()} CPUs, offscreen)")
        build_library(cached, args.n, index=not args.no_index)
    work = Path(tempfile.mkdtemp(prefix="paperdesk-bench-"))
    folder = work / "library"  # a copy: the import below must not grow the cached library
    t = time.perf_counter()
    skip = ["fts5.sqlite3*", "fts5.json"] + (["index", "index.*"] if args.no_index else [])
    shutil.copytree(cached, folder, ignore=shutil.ignore_patterns(*skip))
    copy_s = time.perf_counter() - t
    results: dict[str, str] = {}
    figures: dict[str, float] = {"copy_s": round(copy_s, 1)}

    # -- cold start: imports + QApplication + library + window, until the list has painted rows --
    t_start = time.perf_counter()
    from qt_heartbeat import Heartbeat, StallSampler
    from synth_batches import synthetic_batches

    from paperdesk.core import Library
    from paperdesk.gui.app import make_app
    from paperdesk.gui.main_window import MainWindow
    from paperdesk.gui.qt import QEvent, QObject, Signal
    from paperdesk.gui.settings import open_settings

    app = make_app()
    lib = Library.open(folder)
    settings = open_settings(str(Path(tempfile.mkdtemp()) / "bench.ini"))
    window = MainWindow(lib, settings, remember=False, index_on_start=not args.no_index,
                        refresh_feeds=False)
    if args.no_index:
        window.papers.search_ready = False
    window.go_to("all")
    painted: list[float] = []

    class PaintWatch(QObject):
        first_paint = Signal()

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and window.model.rowCount() and not painted:
                painted.append(time.perf_counter())
                self.first_paint.emit()
            return False

    watch = PaintWatch()
    window.table.viewport().installEventFilter(watch)
    window.resize(1280, 800)
    window.show()
    run_until(app, watch.first_paint, lambda: bool(painted))
    cold = painted[0] - t_start
    window.table.viewport().removeEventFilter(watch)  # the bench's own hook: every later paint paid it
    results["cold start to painted list"] = (f"{cold * 1000:.0f} ms (window only; "
                                             f"{(painted[0] - T0) * 1000:.0f} ms incl. interpreter imports)")
    figures["cold_start_ms"] = round(cold * 1000)
    figures["cold_start_with_imports_ms"] = round((painted[0] - T0) * 1000)
    run_until(app, window.jobs.idle, lambda: not window.jobs.busy)  # startup indexing, if any
    # The search index opens on the reader after the first list (a background request, ~1 s at 1M
    # papers): the phases below measure the desk once it has, and this says when that was.
    reader = window.papers.reader
    run_until(app, reader.delivered, lambda: not reader.pending("warm"))
    warm_ms = (time.perf_counter() - painted[0]) * 1000
    results["  search index open"] = f"{warm_ms:.0f} ms after the paint (reader, in the background)"
    figures["index_open_after_paint_ms"] = round(warm_ms)
    rss_phases = [f"start {rss_mb():.0f}"]

    def settle() -> None:
        window.table.viewport().repaint()  # synchronous paint of what is now visible

    # -- switching views (id cache cleared: each switch queries) ---------------------------------
    # Until the new list is painted: lists are read on the reader thread, so the switch waits for
    # its answer (before lists were read on the GUI thread, `go_to` returned with the list in place).
    switches, switch_blocked = [], []
    for key in ["inbox", "all", "starred", "archive", "inbox", "all", "inbox", "all"]:
        window.papers._id_cache.clear()
        t = time.perf_counter()
        window.go_to(key)
        switch_blocked.append(time.perf_counter() - t)
        run_until(app, window.papers.reloaded, lambda: not window.papers.busy)
        settle()
        switches.append(time.perf_counter() - t)
    cached = []
    for key in ["inbox", "all"] * 4:
        t = time.perf_counter()
        window.go_to(key)
        run_until(app, window.papers.reloaded, lambda: not window.papers.busy)
        settle()
        cached.append(time.perf_counter() - t)
    results["switch view (uncached ids)"] = (f"median {statistics.median(switches) * 1000:.1f} ms, "
                                             f"max {max(switches) * 1000:.1f} ms "
                                             f"(each: {', '.join(f'{x * 1000:.0f}' for x in switches)})")
    results["  GUI thread busy per switch"] = f"max {max(switch_blocked) * 1000:.1f} ms"
    results["switch view (cached ids)"] = f"median {statistics.median(cached) * 1000:.1f} ms"
    figures["switch_median_ms"] = round(statistics.median(switches) * 1000, 1)
    figures["switch_max_ms"] = round(max(switches) * 1000, 1)
    figures["switch_gui_busy_max_ms"] = round(max(switch_blocked) * 1000, 1)
    figures["switch_cached_median_ms"] = round(statistics.median(cached) * 1000, 1)

    # -- search keystroke to updated, painted list (debounce excluded) --------------------------
    window.go_to("inbox")
    times, blocked = [], []
    for query in ["d", "di", "dif", "diff", "diffu", "diffus", "diffusion", "diffusion m",
                  "diffusion mo", "diffusion model", "g", "gr", "gra", "graph", "graph a", "graph at",
                  "graph attention", "q", "qu", "quantum", "quantum c", "quantum code", "x", "xy"]:
        window.search.setText(query)
        t = time.perf_counter()
        window.search.flush()  # the search runs on the reader thread
        blocked.append(time.perf_counter() - t)
        run_until(app, window.papers.reloaded, lambda: not window.papers.busy)
        settle()
        times.append(time.perf_counter() - t)
    msg = window.statusBar().currentMessage()
    results["search keystroke -> list"] = (f"p95 {pct(times) * 1000:.1f} ms, max {max(times) * 1000:.0f} ms, "
                                           f"median {statistics.median(times) * 1000:.1f} ms "
                                           f"({'index' if window.papers.search_ready else 'LIKE'}, "
                                           "reader thread"
                                           f"{'; ' + msg if msg else ''})")
    results["  GUI thread busy per keystroke"] = f"p95 {pct(blocked) * 1000:.1f} ms"
    figures["keystroke_p95_ms"] = round(pct(times) * 1000, 1)
    figures["keystroke_max_ms"] = round(max(times) * 1000, 1)
    figures["keystroke_gui_busy_p95_ms"] = round(pct(blocked) * 1000, 1)
    window.search.clear()
    rss_phases.append(f"after searches {rss_mb():.0f} [{rss_parts()}]")

    # -- scrolling a page at a time through never-seen rows ----------------------------------
    window.go_to("all")
    # Scrolling is measured over the loaded list: a search stops a view's whole-list read (it
    # slowed the keystrokes), so the All view may be read again here first.
    run_until(app, window.papers.reloaded, lambda: not window.papers.busy and not window.papers.completing)
    bar = window.table.verticalScrollBar()
    scrolls = []
    for _ in range(min(300, max(1, bar.maximum() // max(1, bar.pageStep())))):
        t = time.perf_counter()
        bar.setValue(bar.value() + bar.pageStep())
        settle()
        scrolls.append(time.perf_counter() - t)
    results["scroll one page"] = (f"p95 {pct(scrolls) * 1000:.1f} ms, max {max(scrolls) * 1000:.1f} ms "
                                  f"over {len(scrolls)} pages")
    figures["scroll_p95_ms"] = round(pct(scrolls) * 1000, 1)
    figures["scroll_max_ms"] = round(max(scrolls) * 1000, 1)

    # -- longest event-loop stall while 10k papers import on the writer thread ------------------
    # Made on the writer thread one file at a time, as an import parses its digests: 10k papers
    # made up front would sit in the GUI's heap, and every full GC of the import would walk them.
    papers, per_file = 10_000, 1000
    batches = synthetic_batches(papers, per_batch=per_file, seed=99, prefix=f"stall{time.time_ns()}")

    def job(wlib, progress, cancelled):
        n = 0
        for n, batch in enumerate(batches, 1):
            if cancelled():
                break
            wlib.import_batch(batch)
            progress(n, papers // per_file, batch.name)
        return n

    rows_before = window.model.rowCount()
    run_until_idle()  # the scrolls above repainted synchronously, leaving layouts and paints queued
    heartbeat = Heartbeat()
    poller = start_poller() if args.stacks else None
    heartbeat.start()
    beat_started = time.monotonic()
    sampler = StallSampler(heartbeat) if args.stacks else None
    if sampler:
        sampler.start()
    gaps = heartbeat.gaps
    t = time.perf_counter()
    indexed: list[int] = []
    window.jobs.indexed.connect(indexed.append)
    window.jobs.run("bench import", job)
    run_until(app, window.jobs.idle, lambda: not window.jobs.busy and not window.papers.busy)
    # ...and until the list shows them (its re-read after the last batch's changes, a stall of its
    # own at 1M, may start after the writer went idle); at most 2 min.
    run_until(app, window.papers.reloaded,
              lambda: window.model.rowCount() >= rows_before + papers or time.perf_counter() - t > 120)
    elapsed = time.perf_counter() - t
    index_wait = not args.no_index
    if index_wait:  # indexing the 10k new papers (in slices, after the job) is part of the import
        run_until(app, window.jobs.indexed, lambda: bool(indexed))
    elapsed_indexed = time.perf_counter() - t
    heartbeat.stop()
    if sampler:
        sampler.stop()
        print(sampler.report(), file=sys.stderr)
        print(poller_report(poller, gaps, beat_started), file=sys.stderr)
    results["10k import in background"] = (f"{elapsed:.1f} s (+ search indexing: {elapsed_indexed:.1f} s); "
                                           f"longest stall {max(gaps):.0f} ms "
                                           f"(heartbeat 5 ms; p99 gap {pct(gaps, 0.99):.0f} ms)")
    # When the worst gaps came, from the import's start: tells a stall mid-import (the writer's
    # work) from one at its end (the new id list, the repaint, the indexer starting).
    ends = list(itertools.accumulate(gaps))
    worst = sorted(range(len(gaps)), key=gaps.__getitem__)[-5:][::-1]
    results["worst stalls at"] = ", ".join(f"{gaps[i]:.0f} ms at {ends[i] / 1000:.2f} s" for i in worst) + (
        f" (job done at {elapsed:.2f} s)")
    results["rows in list after import"] = f"{window.model.rowCount():,}"
    figures["import_10k_s"] = round(elapsed, 1)
    figures["import_10k_indexed_s"] = round(elapsed_indexed, 1)
    figures["import_stall_max_ms"] = round(max(gaps))
    figures["import_stall_p99_ms"] = round(pct(gaps, 0.99))
    rss_phases.append(f"after import {rss_mb():.0f} [{rss_parts()}]")
    results["RSS"] = f"{rss_mb():.0f} MB ({', '.join(rss_phases)})"
    figures["rss_mb"] = round(rss_mb())
    figures["rss_peak_mb"] = round(peak_rss_mb())
    if args.for_you:
        rank_inbox(app, window, results, figures, Heartbeat, StallSampler if args.stacks else None)

    window.close()
    lib.close()
    shutil.rmtree(work, ignore_errors=True)
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"  {key:<{width}}  {value}")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
