"""Benchmark: the desk's PDF view on the 117-page lecture script of the shared corpus.

    QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_pdf_view.py [--pdf PATH] [--pages 40]

Reports: open to the first page painted; next page p50/p95 when the page is cached (prefetched while
reading the one before) and when not (cache cleared first); find a word on every page (cold: the
text of no page read yet); the GUI thread's longest stall (a 5 ms Qt heartbeat) while pages render
and while scrolling through the whole PDF; resident memory added by the open PDF and its cache. A
pure-Python loop is timed first and last (this VM's speed swings).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from qt_heartbeat import Heartbeat  # noqa: E402

DEFAULT_PDF = ROOT.parent / "shared" / "corpus" / "pdf" / "GeoTopo-komprimiert.pdf"


def python_loop_ms() -> float:
    t = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i % 7
    return (time.perf_counter() - t) * 1000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_until(app, condition, timeout_s: float = 30.0) -> None:
    """Run the event loop until `condition()` holds (a benchmark has no qtbot)."""
    end = time.perf_counter() + timeout_s
    while not condition():
        app.processEvents()
        if time.perf_counter() > end:
            raise TimeoutError("the desk did not get there in time")
        time.sleep(0.0005)


def pages_read() -> set[int]:
    """The pages whose text was read (by any thread) since the set was last cleared."""
    from paperdesk.core.pdf.document import PdfDocument

    read: set[int] = set()
    page_text = PdfDocument.page_text

    def recorded(doc: PdfDocument, i: int) -> str:
        text = page_text(doc, i)
        read.add(i)
        return text

    PdfDocument.page_text = recorded  # type: ignore[method-assign]
    return read


def idle_stall_ms(app, beat: Heartbeat, seconds: float = 2.0) -> float:
    """The machine's own noise: the longest heartbeat gap with nothing to do (gaps cleared after)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.0005)
    longest = beat.longest
    beat.gaps.clear()
    return round(longest, 1)


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pdf", type=Path, default=DEFAULT_PDF)
    parser.add_argument("--pages", type=int, default=40, help="page turns measured per kind")
    parser.add_argument("--word", default="Topologie")
    args = parser.parse_args()
    if not args.pdf.is_file():
        sys.exit(f"{args.pdf} not found (the shared corpus is absent): pass --pdf")

    from paperdesk.gui.app import make_app
    from paperdesk.gui.pdf_pane import PdfPane

    app = make_app()
    results: dict[str, object] = {"python loop before (ms)": round(python_loop_ms())}

    def wait(condition, timeout_s: float = 30.0) -> None:
        wait_until(app, condition, timeout_s)

    pane = PdfPane()
    pane.resize(900, 1000)
    pane.show()
    wait(lambda: pane.isVisible())
    for _ in range(20):
        app.processEvents()
    view = pane.view
    rss_before = rss_mb()
    beat = Heartbeat()
    beat.start()
    results["longest GUI stall, idle for 2 s (ms)"] = idle_stall_ms(app, beat)

    t = time.perf_counter()
    pane.open_pdf("bench", args.pdf)
    wait(lambda: view.page_painted(0))
    view.viewport().repaint()
    results["open to first page painted (ms)"] = round((time.perf_counter() - t) * 1000, 1)
    results["pages"] = view.page_count
    results["render scale"] = round(view.render_scale, 3)
    wait(lambda: view.renderer.idle())
    beat.gaps.clear()

    uncached: list[float] = []
    for i in range(1, args.pages + 1):
        wait(lambda: view.renderer.idle())
        view.cache.clear()
        t = time.perf_counter()
        view.go_to_page(i)
        wait(lambda i=i: view.page_painted(i))
        view.viewport().repaint()
        uncached.append((time.perf_counter() - t) * 1000)
    stall_uncached = beat.longest
    beat.gaps.clear()

    cached: list[float] = []
    view.first_page()
    for i in range(args.pages):
        wait(lambda i=i: view.page_painted(i + 1))  # prefetched while "reading" page i
        t = time.perf_counter()
        view.next_page()
        view.viewport().repaint()
        cached.append((time.perf_counter() - t) * 1000)
        app.processEvents()
    results["next page cached p50/p95 (ms)"] = [round(p(cached, 0.5), 2), round(p(cached, 0.95), 2)]
    results["next page uncached p50/p95 (ms)"] = [round(p(uncached, 0.5), 1), round(p(uncached, 0.95), 1)]
    results["longest GUI stall, uncached page turns (ms)"] = round(stall_uncached, 1)

    beat.gaps.clear()
    bar = view.verticalScrollBar()
    while bar.value() < bar.maximum():  # scroll through the whole PDF a screen at a time
        bar.setValue(bar.value() + bar.pageStep())
        end = time.perf_counter() + 0.016
        while time.perf_counter() < end:
            app.processEvents()
    wait(lambda: view.renderer.idle())
    results["longest GUI stall, scrolling through every page (ms)"] = round(beat.longest, 1)
    results["memory extra after scrolling (MB)"] = round(rss_mb() - rss_before)
    results["page cache (MB)"] = round(view.cache.size / 2**20)

    # Find right after opening (no page's text read yet), then once the idle read-ahead is done.
    read = pages_read()
    for phase in ("cold", "warm"):
        read.clear()
        pane.open_pdf("bench", args.pdf)
        if phase == "warm":
            wait(lambda: len(read) == view.page_count)
        beat.gaps.clear()
        t = time.perf_counter()
        view.find(args.word)
        wait(lambda: bool(view.matches))
        results[f"find '{args.word}' on all pages, {phase} (ms)"] = round((time.perf_counter() - t) * 1000, 1)
        results[f"longest GUI stall during find, {phase} (ms)"] = round(beat.longest, 1)
    results["matches"] = len(view.matches)
    beat.stop()
    results["memory extra at the end (MB)"] = round(rss_mb() - rss_before)
    results["python loop after (ms)"] = round(python_loop_ms())
    pane.close_pdf()
    view.renderer.close()
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
