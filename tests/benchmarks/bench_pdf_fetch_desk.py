"""Benchmark: the desk's longest stall while a PDF downloads, renders and is indexed (issue 20).

    QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_pdf_fetch_desk.py [--pdf PATH] [--n 2000]

A library of N synthetic papers plus one with an arXiv id; a 127.0.0.1 server serves the PDF (the
117-page lecture script of the shared corpus by default). The desk fetches it with `F`, as a user
does, and a 5 ms Qt heartbeat records the GUI thread's gaps until the first page is painted and the
paper's text is in the search index (`fulltext:WORD` finds it). Goal: longest stall <= 50 ms.
A pure-Python loop is timed first and last (this VM's speed swings).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "benchmarks")]

from bench_pdf_view import DEFAULT_PDF, idle_stall_ms, python_loop_ms, rss_mb, wait_until  # noqa: E402
from feed_server import serve_folder  # noqa: E402
from qt_heartbeat import Heartbeat  # noqa: E402

ARXIV_ID = "2401.99999"


def watch_stalls(beat: Heartbeat, after_ms: float = 40.0) -> None:
    """A daemon thread printing the GUI thread's stack while its heartbeat is late (a diagnosis)."""
    import threading
    import traceback

    gui = threading.get_ident()

    def run() -> None:
        seen = 0
        while True:
            time.sleep(0.01)
            last, late = beat.late()
            if late > after_ms and last != seen:
                seen = last
                frame = sys._current_frames().get(gui)
                stack = "".join(traceback.format_stack(frame, limit=12)) if frame else "?"
                print(f"--- GUI thread late by {late:.0f} ms:\n{stack}", file=sys.stderr)

    threading.Thread(target=run, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pdf", type=Path, default=DEFAULT_PDF)
    parser.add_argument("--n", type=int, default=2000, help="other papers in the library")
    parser.add_argument("--word", default="Topologie", help="a word of the PDF's text")
    parser.add_argument("--stacks", action="store_true",
                        help="print the GUI thread's stack whenever it has not beaten for 40 ms")
    args = parser.parse_args()
    if not args.pdf.is_file():
        sys.exit(f"{args.pdf} not found (the shared corpus is absent): pass --pdf")

    import os

    from synth_batches import synthetic_batches

    from paperdesk.core import Library
    from paperdesk.core.records import IncomingPaper, SourceBatch
    from paperdesk.gui.app import make_app
    from paperdesk.gui.main_window import MainWindow
    from paperdesk.gui.settings import open_settings

    work = Path(tempfile.mkdtemp(prefix="paperdesk-bench-fetch-"))
    served = work / "server" / "pdf"
    served.mkdir(parents=True)
    (served / ARXIV_ID).write_bytes(args.pdf.read_bytes())
    lib = Library.open(work / "library")
    for batch in synthetic_batches(args.n):
        lib.import_batch(batch)
    lib.import_batch(SourceBatch("feed", "bench", "bench", "2026-12-01", "bench-fetch", [
        IncomingPaper("A lecture script to fetch", "Its abstract.", arxiv_id=ARXIV_ID)]))
    lib.search.update()
    pid = lib.conn.execute("SELECT id FROM papers WHERE arxiv_id = ?", (ARXIV_ID,)).fetchone()[0]
    results: dict[str, object] = {"python loop before (ms)": round(python_loop_ms()),
                                  "papers": lib.count(), "pdf (MB)": round(args.pdf.stat().st_size / 1e6, 1)}

    app = make_app()

    def wait(condition, timeout_s: float = 60.0) -> None:
        wait_until(app, condition, timeout_s)

    with serve_folder(work / "server") as url:
        os.environ["PAPERDESK_ARXIV_PDF"] = f"{url}/pdf"
        os.environ["PAPERDESK_HOST_INTERVAL"] = "0"
        window = MainWindow(lib, open_settings(str(work / "bench.ini")), remember=False,
                            refresh_feeds=False)
        window.resize(1280, 800)
        window.show()
        wait(lambda: not window.jobs.busy and not window.reading)
        window.go_to("all")
        wait(lambda: not window.reading)
        assert window.selection.select_id(pid), "the paper to fetch is not in the list"
        wait(lambda: not window.reading)
        rss_before = rss_mb()
        beat = Heartbeat()
        beat.start()
        if args.stacks:
            watch_stalls(beat)
        results["longest GUI stall, idle for 2 s (ms)"] = idle_stall_ms(app, beat)

        t = time.perf_counter()
        window.keys.press("normal", "F")
        view = window.reader.pdf.view
        wait(lambda: window.reader.showing_pdf and view.doc is not None and view.page_painted(0))
        results["F to first page painted (ms)"] = round((time.perf_counter() - t) * 1000)

        def indexed() -> bool:  # two indexed look-ups (a search here would stall the bench's own loop)
            state = lib.conn.execute("SELECT text_state FROM pdfs WHERE paper_id = ?", (pid,)).fetchone()
            queued = lib.conn.execute("SELECT 1 FROM index_queue LIMIT 1").fetchone()
            return bool(state and state[0] == "done" and not queued)

        wait(lambda: not window.jobs.busy and indexed(), timeout_s=120)
        results["F to text searchable (ms)"] = round((time.perf_counter() - t) * 1000)
        bar = view.verticalScrollBar()  # then read on: scroll a few screens while nothing is cached
        for _ in range(10):
            bar.setValue(bar.value() + bar.pageStep())
            end = time.perf_counter() + 0.016
            while time.perf_counter() < end:
                app.processEvents()
        wait(lambda: view.renderer.idle())
        beat.stop()
        results["longest GUI stall, fetch to indexed + 10 screens (ms)"] = round(beat.longest, 1)
        # Where the longest gaps fell (ms after F), to tell the phase that made them.
        offsets, at = [], 0.0
        for gap in beat.gaps:
            at += gap
            offsets.append((gap, at))
        results["longest gaps at (ms after F)"] = [
            [round(g, 1), round(a)] for g, a in sorted(offsets, reverse=True)[:5]]
        gaps = sorted(beat.gaps)
        results["heartbeat gaps p99 (ms)"] = round(gaps[int(0.99 * (len(gaps) - 1))], 1)
        results["memory extra (MB)"] = round(rss_mb() - rss_before)
        window.close()
    results["fulltext search finds it"] = lib.search.run(f"fulltext:{args.word}", typing=False).total == 1
    lib.close()
    results["python loop after (ms)"] = round(python_loop_ms())
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
