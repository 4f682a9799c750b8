"""The desk's one write path: every write is a job on the one writer thread, the search index
follows every write, and the network never holds the writer."""

from __future__ import annotations

import threading

import pytest
from feed_server import feed_xml, serve_folder

from paperdesk.gui.qt import Qt


def test_a_tag_made_while_no_job_runs_is_found_by_search(desk, seeded, qtbot):
    """Issue 19, defect 1: a write made while the writer was idle was never indexed."""
    assert not desk.jobs.busy
    pid = desk.selection.current_id()
    qtbot.keyClicks(desk.table, "t")
    popup = desk.writes.tag_popup
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClicks(popup.field, "zzqprobe")
    qtbot.keyClick(popup.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "zzqprobe" in seeded.get(pid)["tags"])
    desk.focus_search()
    qtbot.keyClicks(desk.search, "tag:zzqprobe")
    qtbot.waitUntil(lambda: list(desk.model.ids) == [pid], timeout=30_000)
    assert seeded.conn.execute("SELECT count(*) FROM index_queue").fetchone()[0] == 0


def test_a_star_is_stored_at_once_while_a_slow_feed_downloads(make_window, seeded, qtbot, tmp_path):
    """Issue 18, item 2: a star asked for during a slow refresh waited for the whole download."""
    (tmp_path / "slow.xml").write_bytes(feed_xml(1, 20))
    with serve_folder(tmp_path) as base:
        feed = seeded.feeds.add(f"{base}/slow.xml?trickle=0.5", "Slow")  # ~25 min for the body
        window = make_window(seeded)
        scheduler = window.feeds.scheduler
        assert scheduler is not None
        scheduler.refresh(None) or None  # (the scheduler's own first check may have started it)
        assert scheduler.running and window.job_status.progress.isVisible()
        window.table.setFocus()
        window.selection.move_current(0)
        pid = window.selection.current_id()
        window.run_command("star")
        qtbot.waitUntil(lambda: seeded.get(pid)["starred"], timeout=5_000)
        qtbot.waitUntil(lambda: window.model.row_data(window.model.row_of(pid))["starred"], timeout=5_000)
        assert scheduler.running  # the download goes on meanwhile
        with qtbot.waitSignal(scheduler.failed, timeout=5_000) as blocker:
            window.job_status.cancel()  # the status bar's Cancel: cuts the read that waits
        assert blocker.args == ["cancelled"] and not scheduler.running
        assert not window.job_status.progress.isVisible()
        assert seeded.feeds.get(feed.id).last_attempt is None  # a cancelled refresh records nothing


def test_two_quick_stars_toggle_twice(desk, seeded, qtbot, settle):
    """Each press decides on the writer: the second one sees the first one's star."""
    pid = desk.selection.current_id()
    assert not seeded.get(pid)["starred"]
    gate = threading.Event()
    desk.jobs.run("Hold the writer", lambda _lib, _p, _c: gate.wait(10), quiet=True)
    qtbot.keyClicks(desk.table, "s")
    qtbot.keyClicks(desk.table, "s")  # both queued before either has run
    gate.set()
    settle(desk)
    assert not seeded.get(pid)["starred"]
    assert "Unstarred" in desk.statusBar().currentMessage()


@pytest.mark.parametrize("listed", ["listed", "too big to list"])
def test_what_another_process_changes_reaches_the_desk(make_window, lib, qtbot, monkeypatch, listed):
    """Seen in a real window: a `paperdesk import` in a shell while the desk was open left its
    sidebar (and the search index) as they were, until the desk itself wrote something. An
    operation too big to list (`Changes.everything`) reaches it too."""
    from desk_keys import sidebar_group
    from samples import DIGEST_PLAIN, TODAY

    from paperdesk.core import Library, ops
    from paperdesk.gui.paper_model import STARRED_ROLE

    if listed != "listed":
        monkeypatch.setattr(ops, "LISTED_ROWS", 0)

    window = make_window(lib)  # an empty library
    qtbot.waitUntil(lambda: window.outside.stamp is not None)
    other = Library.open(lib.folder)
    other.origin = "cli:test"  # another process: the command line
    try:
        other.import_paths([DIGEST_PLAIN], today=TODAY)
        new = set(other.paper_ids())
        qtbot.waitUntil(lambda: set(window.model.ids) == new, timeout=10_000)
        qtbot.waitUntil(lambda: sidebar_group(window.sidebar, "Digests").childCount() == 1)
        pid = window.selection.current_id() or sorted(new)[0]
        other.star([pid])
        qtbot.waitUntil(lambda: next(e for e in window.sidebar.entries()
                                     if e.key == "starred").detail == "1 paper", timeout=10_000)
        qtbot.waitUntil(lambda: window.model.data(window.model.index(window.model.row_of(pid), 0),
                                                  STARRED_ROLE), timeout=10_000)
        word = other.get(pid)["title"].split()[0]
        window.focus_search()  # the desk's indexer took in what the other process queued
        qtbot.keyClicks(window.search, f'"{word}"')
        qtbot.waitUntil(lambda: pid in list(window.model.ids), timeout=30_000)
    finally:
        other.close()
