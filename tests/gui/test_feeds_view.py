"""The Feeds view and the scheduler against a real HTTP server on 127.0.0.1 (a separate process, so it
does not compete for this process's GIL while the heartbeat is measured)."""

from __future__ import annotations

import threading

import pytest
from feed_server import feed_xml, serve_folder
from qt_heartbeat import Heartbeat

from paperdesk.gui.feeds_view import COLUMNS, when
from paperdesk.gui.qt import Qt


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("feeds")
    for n in range(50):
        (root / f"f{n}.xml").write_bytes(feed_xml(n, 20))
    with serve_folder(root) as url:
        yield url


@pytest.fixture
def desk(make_window, lib):
    window = make_window(lib)
    assert window.feeds.scheduler is not None and window.feeds.scheduler.timer.isActive()
    return window, window.feeds.scheduler


def cell(view, row: int, key: str) -> str:
    col = [k for k, _ in COLUMNS].index(key)
    return view.model.data(view.model.index(row, col))


def test_view_shows_health_in_plain_words_and_actions_work(desk, lib, server, qtbot, tmp_path, settle):
    window, scheduler = desk
    view = window.feeds.show()
    view.add(f"{server}/f1.xml", "Good feed", check=False)
    view.add(f"{server}/missing.xml", "Broken feed", check=False)
    settle(window)
    assert [f.name for f in view.model.feeds] == ["Broken feed", "Good feed"]
    assert cell(view, 1, "health") == "not fetched yet" and cell(view, 1, "success") == "never"
    with qtbot.waitSignal(scheduler.refreshed, timeout=30_000) as blocker:
        view.refresh_all()
    assert scheduler.last_summary.startswith("Feeds: 2 refreshed, 20 new papers")
    assert "1 failing (Broken feed:" in scheduler.last_summary
    assert {r.name: r.status for r in blocker.args[0]} == {"Good feed": "ok", "Broken feed": "error"}
    qtbot.waitUntil(lambda: cell(view, 1, "health") == "OK")
    assert cell(view, 1, "items") == "20" and cell(view, 1, "success") == "now"
    assert cell(view, 1, "next").startswith("in ")
    assert cell(view, 0, "health") == "failing" and "404" in cell(view, 0, "error")
    settle(window)  # the list is read again on the reader thread
    assert window.model.rowCount() == 20  # the papers reached the desk's list

    view.table.selectRow(1)
    view.rename(view.selected_ids()[0], "  Renamed   feed ")
    settle(window)
    assert [f.name for f in lib.feeds.all()] == ["Broken feed", "Renamed feed"]
    view.rename(view.selected_ids()[0], "   ")  # refused: one line, nothing changed
    settle(window)
    assert view.message.text() == "a feed needs a non-empty name"
    assert view.selected_ids() and cell(view, 1, "name") == "Renamed feed"
    view.toggle_pause()
    settle(window)
    assert cell(view, 1, "health") == "paused" and lib.feeds.all()[1].paused

    opml = tmp_path / "out.opml"
    assert view.export_opml(opml) and b"missing.xml" in opml.read_bytes()
    view.table.selectAll()
    view.remove_selected()
    settle(window)
    assert view.model.feeds == [] and lib.feeds.all() == []
    assert lib.count() == 20  # the feed's papers stay
    view.import_opml(opml)
    settle(window)
    assert sorted(f.url for f in lib.feeds.all()) == sorted([f"{server}/f1.xml", f"{server}/missing.xml"])
    assert view.message.text().startswith("Imported 2 feed(s)")
    view.import_opml(tmp_path / "nope.opml")
    assert view.message.text().startswith("cannot read")


def test_scheduler_refreshes_50_due_feeds_without_stalling_the_gui(desk, lib, server, qtbot):
    window, scheduler = desk
    for n in range(50):
        lib.feeds.add(f"{server}/f{n}.xml", f"Feed {n:02d}")
    started: list[str] = []
    window.jobs.started.connect(lambda job: started.append(job.label))
    heartbeat = Heartbeat()
    heartbeat.start()
    with qtbot.waitSignal(scheduler.refreshed, timeout=60_000) as refreshed:
        job = scheduler.check()
        assert job is not None and scheduler.check() is None  # one refresh at a time
    heartbeat.stop()
    assert started == []  # no long writer job: each feed is stored by a short, quiet one
    results = refreshed.args[0]
    assert len(results) == 50 and lib.count() == 1000
    assert all(r.status == "ok" for r in results)
    longest = heartbeat.longest
    print(f"\nlongest GUI stall while refreshing 50 feeds: {longest:.0f} ms over {len(heartbeat.gaps)} beats")
    # Target 50 ms (issue 8; see the benchmark); a loose bound here because the CI machine is shared.
    assert longest < 250
    assert scheduler.check() is None  # nothing is due any more
    qtbot.waitUntil(lambda: "50 refreshed, 1000 new papers" in window.statusBar().currentMessage())


def test_a_queued_refresh_can_be_cancelled(desk, lib, server, qtbot):
    window, scheduler = desk
    lib.feeds.add(f"{server}/f3.xml", "Feed 3")
    gate = threading.Event()
    window.jobs.run("hold the writer", lambda _l, _p, _c: gate.wait(20))
    scheduler.refresh(None)
    assert scheduler.running and scheduler.refresh(None) is None  # ignored while one runs
    with qtbot.waitSignal(scheduler.failed, timeout=20_000) as blocker:
        scheduler.cancel()
        gate.set()
    assert blocker.args == ["cancelled"] and not scheduler.running
    assert lib.count() == 0 and lib.feeds.all()[0].last_attempt is None


def test_menu_actions_and_relative_times(desk):
    window, _scheduler = desk
    titles = [a.text() for a in window.feeds.actions.values()]
    assert titles == ["&Manage feeds…", "&Refresh feeds now"]
    window.feeds.actions["feeds-manage"].trigger()
    assert window.feeds.view.isVisible()
    assert window.feeds.view.windowFlags() & Qt.WindowType.Window
    assert when(None) == "" and when("not a date") == "not a date"
    assert when("2025-01-01T00:00:00+00:00").endswith(" d ago")
    assert when("2999-01-01T00:00:00+00:00").startswith("in ")


def test_add_probes_off_the_writer_thread(desk, lib, server, qtbot):
    window, _scheduler = desk
    view = window.feeds.show()
    view.add(f"{server}/f7.xml")
    assert view.message.text().startswith("Checking") and not window.jobs.busy  # the writer is free
    qtbot.waitUntil(lambda: view.message.text() == "Added Test feed 7", timeout=20_000)
    assert [f.name for f in lib.feeds.all()] == ["Test feed 7"]  # the feed's own title
    view.add(f"{server}/nothing-here.xml")
    qtbot.waitUntil(lambda: not view.message.text().startswith("Checking"), timeout=20_000)
    assert "404" in view.message.text() or "not found" in view.message.text().lower()
    assert len(lib.feeds.all()) == 1
    view.add("ftp://example.org/feed")
    assert len(lib.feeds.all()) == 1 and view.message.text()


def test_a_feed_that_moved_permanently_shows_its_new_address_after_a_refresh(desk, lib, qtbot, tmp_path,
                                                                              settle):
    window, scheduler = desk
    (tmp_path / "new.xml").write_bytes(feed_xml(9, 3))
    (tmp_path / "old.xml.redirect").write_text("301 /new.xml")
    with serve_folder(tmp_path) as server:
        view = window.feeds.show()
        view.add(f"{server}/old.xml", "Moved feed", check=False)
        settle(window)

        def address() -> str:
            return view.model.data(view.model.index(0, 0), Qt.ItemDataRole.ToolTipRole)

        assert address() == f"{server}/old.xml"
        with qtbot.waitSignal(scheduler.refreshed, timeout=30_000):
            view.refresh_all()
        assert scheduler.last_summary == (f"Feeds: 1 refreshed, 3 new papers; 1 moved permanently "
                                          f"(Moved feed → {server}/new.xml)")
        qtbot.waitUntil(lambda: address() == f"{server}/new.xml")
        assert cell(view, 0, "health") == "OK"
        assert [f.url for f in lib.feeds.all()] == [f"{server}/new.xml"]


def test_view_opens_over_the_desk_closes_on_esc_and_reopens_where_left(make_window, lib, qtbot):
    """Seen in a real window: the view opened half below the screen's edge, and Esc did nothing."""
    window = make_window(lib)
    view = window.feeds.show()
    qtbot.waitExposed(view)
    offset = view.frameGeometry().center() - window.frameGeometry().center()
    assert abs(offset.x()) <= 2 and abs(offset.y()) <= 2
    view.setGeometry(view.x(), window.y() + 57, view.width(), 280)
    moved = view.geometry()
    qtbot.keyClick(view.table, Qt.Key.Key_Escape)
    assert not view.isVisible()
    window.close()
    again = make_window(lib)  # the same settings file: a new session
    view = again.feeds.show()
    qtbot.waitExposed(view)
    # Offscreen, the screen is too narrow for the view: a restore keeps it on the screen sideways.
    # (and its frame's margins may shift it by a pixel or two; centred, it would be ~150 px lower).
    assert abs(view.y() - moved.y()) <= 2 and view.height() == moved.height() == 280
