"""Keyboard triage latency in the desk (offscreen), through real key events and the key dispatcher.

    python tests/benchmarks/bench_keys.py --n 1000      # or --n 100000 (library cached in /tmp, shared
                                                        # with bench_gui.py)

Targets (issue 6, 100k papers): `j` to the next paper fully shown in the reader p95 <= 16 ms;
star / tag / archive to the visible change p95 <= 30 ms. "Shown" = the list and the reader have
repainted synchronously after the key event was handled.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gui import build_library, pct


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--library", type=Path, help="measure a copy of this library (e.g. bench_search's "
                        "1M one) instead of building one")
    args = parser.parse_args()
    if args.library:
        cached = args.library
        print(f"PaperDesk key benchmark, library {cached} ({os.cpu_count()} CPUs, offscreen)")
    else:
        cached = Path(args.dir) / f"paperdesk-bench-gui-{args.n}"
        print(f"PaperDesk key benchmark, {args.n} papers ({os.cpu_count()} CPUs, offscreen)")
        build_library(cached, args.n, index=False)
    work = Path(tempfile.mkdtemp(prefix="paperdesk-bench-keys-"))
    folder = work / "library"  # a copy: the benchmark stars, tags and archives
    shutil.copytree(cached, folder, ignore=shutil.ignore_patterns("fts5.sqlite3*", "fts5.json"))

    from PySide6.QtGui import QKeyEvent
    from PySide6.QtTest import QTest

    from paperdesk.core import Library
    from paperdesk.core.quick_tags import set_quick_tag
    from paperdesk.gui.app import make_app
    from paperdesk.gui.main_window import MainWindow
    from paperdesk.gui.qt import QApplication, QEvent, QObject, Qt
    from paperdesk.gui.settings import open_settings

    make_app()
    lib = Library.open(folder)
    lib.tag(lib.paper_ids(limit=3), ["bench"])
    set_quick_tag(lib, 1, "bench")  # so `1` has a tag to apply (lib.tag gives a tag no key)
    settings = open_settings(str(work / "bench.ini"))
    window = MainWindow(lib, settings, remember=False, index_on_start=False, refresh_feeds=False,
                        keymap_path=work / "no-keys.toml")
    window.resize(1280, 800)
    window.show()
    QTest.qWaitForWindowExposed(window)
    while window.model.rowCount() == 0:  # the Inbox's ids come from the reader thread: wait for them
        QTest.qWait(10)
    window.table.setFocus()
    window.selection.move_current(0)
    painted = [0]
    first_paint: list[float] = []  # when the list or the reader first painted after a key
    reader_paint: list[float] = []  # when the reader page first painted after a key

    class PaintCount(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                painted[0] += obj is window.reader.browser.viewport()
                if obj is window.reader.browser.viewport() and not reader_paint:
                    reader_paint.append(time.perf_counter())
                if not first_paint:
                    first_paint.append(time.perf_counter())
            return False

    counter = PaintCount()
    window.reader.browser.viewport().installEventFilter(counter)
    window.table.viewport().installEventFilter(counter)

    def key(text: str) -> None:
        code = getattr(Qt.Key, f"Key_{text.upper()}") if text.isalpha() else Qt.Key(ord(text))
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(window.table, QKeyEvent(kind, code, Qt.KeyboardModifier.NoModifier, text))

    def shown() -> None:
        # What a user sees: posted events run and the dirty regions (changed rows, the reader page)
        # paint, as the event loop does after a key press. (processEvents is safe here: gui/qt.py
        # works around the PySide6 None-refcount bug.)
        QApplication.sendPostedEvents()
        QApplication.processEvents()

    idle_times: list[float] = []

    def measure(keys: str, rounds: int, reader: bool = False) -> list[float]:
        """Key press to the first paint of the change (of the reader page with `reader`);
        `idle_times` gets key press to event loop idle."""
        times = []
        idle_times.clear()
        for n in range(rounds):
            k = keys[n % len(keys)]
            first_paint.clear()
            reader_paint.clear()
            t = time.perf_counter()
            key(k)
            shown()
            idle_times.append(time.perf_counter() - t)
            seen = reader_paint if reader else first_paint
            times.append((seen[0] if seen else time.perf_counter()) - t)
        return times

    def fmt(times: list[float]) -> str:
        return (f"p95 {pct(times) * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f} ms, "
                f"max {max(times) * 1000:.1f} ms ({len(times)} keys); until idle p95 "
                f"{pct(idle_times) * 1000:.1f} ms")

    results: dict[str, str] = {}
    measure("j", 10)  # warm up
    row, paints = window.table.currentIndex().row(), painted[0]
    results["j -> next paper shown (Inbox)"] = fmt(measure("j", args.rounds, reader=True))
    assert window.table.currentIndex().row() == row + args.rounds, "keys did not reach the dispatcher"
    assert painted[0] - paints >= args.rounds * 0.9, "the reader did not repaint"
    assert window.reader.paper_id == window.selection.current_id()
    before = window.selection.current_id()
    results["s -> star shown"] = fmt(measure("s", args.rounds // 2))
    results["1 -> tag shown"] = fmt(measure("1j", args.rounds // 2))
    while window.jobs.busy:  # stars and tags are writer jobs: SQLite has them once they ran
        QTest.qWait(10)
    assert lib.get(before)["starred"] is False and lib.get(window.selection.current_id())["starred"] is False
    assert lib.history()[0].label.startswith(("Tag", "Star")), "star/tag keys did nothing"
    results["e -> archive + next shown (Inbox)"] = fmt(measure("e", args.rounds // 2))
    window.go_to("all")
    window.table.setFocus()
    window.selection.move_current(0)
    results["e -> archive + next shown (All)"] = fmt(measure("e", args.rounds // 2))
    window.go_to("inbox")
    window.selection.move_current(0)
    results["x marks, e archives 20 as one step"] = fmt(measure("xj" * 20 + "e", 41))
    t = time.perf_counter()
    window.run_command("undo")
    shown()
    results["undo of that bulk archive"] = f"{(time.perf_counter() - t) * 1000:.1f} ms"

    window.close()
    lib.close()
    shutil.rmtree(work, ignore_errors=True)
    width = max(len(k) for k in results)
    for name, value in results.items():
        print(f"  {name:<{width}}  {value}")
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: PySide6 6.12 can abort while collecting at exit


if __name__ == "__main__":
    raise SystemExit(main())
