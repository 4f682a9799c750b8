"""The background-job runner without widgets: one writer thread, results and Changes on the GUI thread."""

from __future__ import annotations

import gc
import threading

from paperdesk.core.changes import Changes
from paperdesk.gui.jobs import JobCancelled, JobRunner
from tests.conftest import DIGEST_BLOCKS, TODAY


def test_job_runs_on_its_own_connection_and_reports_changes(qtbot, lib):
    runner = JobRunner(lib.folder)
    seen: dict = {}
    progress: list[tuple[int, int]] = []
    runner.progress.connect(lambda _job, done, total, _what: progress.append((done, total)))
    runner.changed.connect(lambda changes: seen.setdefault("changes", changes))

    def work(wlib, report, cancelled):
        seen["thread"] = threading.current_thread()
        seen["same_conn"] = wlib.conn is lib.conn
        return wlib.import_paths([DIGEST_BLOCKS], today=TODAY, progress=report, cancelled=cancelled)

    try:
        with qtbot.waitSignal(runner.finished, timeout=20_000) as blocker:
            runner.run("import", work)
        job, report = blocker.args
        assert report.new == 98 and job.label == "import"
        assert seen["thread"] is not threading.main_thread() and seen["same_conn"] is False
        assert isinstance(seen["changes"], Changes) and len(seen["changes"].added) == 98
        assert progress[-1] == (1, 1)
        assert lib.stats()["papers"] == 98  # the GUI's connection sees the writer's commit (WAL)
    finally:
        runner.shutdown()


def test_no_full_collection_off_the_gui_thread_and_one_when_the_writer_rests(qtbot, lib):
    """A full GC on the writer thread holds the GIL for tens of ms at 100k papers: the desk's
    policy (set once, on this thread) lets none start there; the GUI thread runs them at rest."""
    from paperdesk.gui.gil import IdleCollector, apply_process_policy

    apply_process_policy()  # as make_app does (the autouse fixture restores the thresholds)
    policy = gc.get_threshold()
    runner = JobRunner(lib.folder)
    collector = IdleCollector(delay_ms=10)
    runner.idle.connect(collector.poke)
    collections: list[tuple[bool, int]] = []

    def count(phase, info):
        if phase == "start":
            collections.append((threading.current_thread() is threading.main_thread(), info["generation"]))

    def work(_lib, _p, _c):
        keep = []
        for n in range(300_000):  # at the default thresholds: full collections
            keep.append([n])
            if len(keep) > 20_000:
                keep.clear()
        return gc.get_threshold()

    gc.callbacks.append(count)
    try:
        with qtbot.waitSignal(runner.finished, timeout=20_000) as blocker:
            runner.run("allocate", work)
        qtbot.waitUntil(lambda: (True, 2) in collections, timeout=10_000)  # the rest's collection
    finally:
        gc.callbacks.remove(count)
        runner.shutdown()
    on_writer = [gen for main, gen in collections if not main]
    assert on_writer and 2 not in on_writer  # young collections went on, no full one
    assert blocker.args[1] == policy == gc.get_threshold()  # nobody saved, changed or restored it


def test_failure_and_cancel_are_reported_and_the_writer_survives(qtbot, lib):
    runner = JobRunner(lib.folder)
    try:
        def boom(_lib, _p, _c):
            raise ValueError("bad input")

        with qtbot.waitSignal(runner.failed, timeout=10_000) as blocker:
            runner.run("boom", boom)
        assert blocker.args[1] == "bad input"

        gate = threading.Event()

        def slow(_lib, _p, cancelled):
            gate.wait(10)
            if cancelled():
                raise JobCancelled()
            return "finished"

        with qtbot.waitSignal(runner.failed, timeout=10_000) as blocker:
            job = runner.run("slow", slow)
            queued = runner.run("queued", lambda *_: "never")
            assert runner.busy and runner.current is job
            runner.cancel_all()
            gate.set()
        assert blocker.args[1] == "cancelled"
        qtbot.waitUntil(lambda: not runner.busy)
        assert queued.cancelled

        with qtbot.waitSignal(runner.finished, timeout=10_000) as blocker:
            runner.run("after", lambda wlib, _p, _c: wlib.stats()["papers"])
        assert blocker.args[1] == 0
    finally:
        runner.shutdown()


def test_at_start_the_indexer_repairs_an_index_that_disagrees_with_the_library(qtbot, seeded):
    """An index from before the queue was exact (no record of what it took in) that lost a change:
    the writer's first look finds they disagree and its indexer child checks and repairs it."""
    seeded.search.run("warm")  # builds the index and drains the queue
    index = seeded.search.index
    assert index.pending() == 0 and index.agrees()
    (index.dir / "PAPERDESK_INDEX_STATE").unlink()
    pid = seeded.paper_ids(limit=1)[0]
    with seeded.transaction():  # a tag the index never heard of (the old queue lost it)
        seeded.conn.execute("INSERT INTO tags (paper_id, tag, added_at) VALUES (?, 'lost', '')", (pid,))
    assert not index.agrees()
    runner = JobRunner(seeded.folder)  # index_process=True: `paperdesk index update --background`
    try:
        with qtbot.waitSignal(runner.indexed, timeout=60_000):
            pass
        assert index.agrees()
        assert seeded.search.run("tag:lost", drain=False).total == 1
    finally:
        runner.shutdown()
