"""Start-up: one desk per library (a second launch focuses the first), clear errors, screenshots."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from paperdesk.gui.single_instance import InstanceServer, server_name

SECOND_LAUNCH = textwrap.dedent("""
    import sys
    from pathlib import Path
    from PySide6.QtCore import QCoreApplication
    from paperdesk.gui.single_instance import ask_running_instance
    app = QCoreApplication([])
    print("found" if ask_running_instance(Path(sys.argv[1])) else "none", flush=True)
""")


def _second_launch(folder) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SECOND_LAUNCH, str(folder)],
                            stdout=subprocess.PIPE, text=True)


def test_second_launch_on_the_same_library_activates_the_first(qtbot, tmp_path, qapp):
    folder = tmp_path / "lib"
    folder.mkdir()
    server = InstanceServer(folder)
    assert server.listening
    try:
        with qtbot.waitSignal(server.activate_requested, timeout=10_000):
            child = _second_launch(folder)
        out, _ = child.communicate(timeout=30)
        assert out.strip() == "found"
    finally:
        server.close()


def test_another_library_is_not_the_same_instance(tmp_path, qapp):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    server = InstanceServer(tmp_path / "a")
    try:
        child = _second_launch(tmp_path / "b")
        out, _ = child.communicate(timeout=30)
        assert out.strip() == "none"
    finally:
        server.close()


def test_gui_on_a_damaged_library_exits_with_a_clear_message(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "library.sqlite3").write_bytes(b"garbage" * 1000)
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(folder), "gui",
                           "--screenshot", str(tmp_path / "x.png")],
                          capture_output=True, text=True, timeout=120,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
                               "HOME": str(tmp_path)})
    assert proc.returncode == 1
    assert "damaged or not a PaperDesk library" in proc.stderr
    assert (folder / "library.sqlite3").read_bytes() == b"garbage" * 1000


def test_an_older_library_is_upgraded_on_a_thread_of_its_own(tmp_path, qapp, monkeypatch):
    """0015 compresses every abstract (minutes at a million papers): not on the GUI thread."""
    import threading

    from test_abstract_text import _library_before_0015

    from paperdesk.core import abstract_text
    from paperdesk.gui.app import open_library

    folder = tmp_path / "lib"
    texts = _library_before_0015(folder, 40)
    threads: list[str] = []
    compress = abstract_text.compress_stored

    def recorded(conn, progress=None):
        threads.append(threading.current_thread().name)
        return compress(conn, progress)

    monkeypatch.setattr(abstract_text, "compress_stored", recorded)
    lib = open_library(folder, show_after_s=0)  # the dialog shows at once
    try:
        assert threads == ["library-upgrade"]
        assert {r["id"]: r["abstract"] for r in lib.records(sorted(texts))} == texts
        assert lib.conn.execute("SELECT count(*) FROM papers WHERE typeof(abstract) = 'blob'").fetchone()[0]
        (warning,) = lib.warnings  # the upgrade's line, for the desk's status bar
        assert "before-schema-" in warning  # (forty short abstracts: no `compact` worth naming)
    finally:
        lib.close()


DESK_START = textwrap.dedent("""
    import sys
    from pathlib import Path
    from paperdesk.gui.app import make_app, open_library, wait_until_idle
    from paperdesk.gui.main_window import MainWindow
    from paperdesk.gui.settings import open_settings
    app = make_app()
    window = MainWindow(open_library(Path(sys.argv[1])), open_settings(sys.argv[2]), remember=False)
    window.show()
    wait_until_idle(window)  # the list and the sidebar read, the search index opened on the reader
    assert window.model.rowCount() > 0
    late = ("httpx", "feedparser", "pypdfium2", "sqlite_utils")
    print(" ".join(m for m in late if m in sys.modules) or "none")
    window.close()
""")


def test_the_desk_starts_without_the_network_and_pdf_libraries(seeded, tmp_path):
    """The first list needs no HTTP client, feed parser or pdfium (at 1M papers ~120 ms of a cold
    start and their memory): they are imported when a feed is refreshed or a PDF opened; nor
    sqlite_utils, which only the migrations use (the library here is current)."""
    seeded.search.update()
    seeded.close()
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", DESK_START, str(seeded.folder), str(tmp_path / "desk.ini")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-1] == "none", proc.stdout


def test_the_upgrade_dialog_stays_up_when_esc_or_close_is_pressed(tmp_path, qapp, qtbot, monkeypatch):
    """Esc (or the title bar's close) hid it while the upgrade went on: minutes of no window at all."""
    import threading

    from test_abstract_text import _library_before_0015

    from paperdesk.core import abstract_text
    from paperdesk.gui.app import open_library
    from paperdesk.gui.qt import QApplication, QProgressDialog, Qt, QTimer

    _library_before_0015(tmp_path / "lib", 10)
    release, seen = threading.Event(), []
    compress = abstract_text.compress_stored

    def held(conn, progress=None):
        release.wait(60)  # until the test has pressed its keys
        return compress(conn, progress)

    def press_then_release() -> None:
        dialogs = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, QProgressDialog) and w.isVisible()]
        if not dialogs:
            QTimer.singleShot(20, press_then_release)
            return
        qtbot.keyClick(dialogs[0], Qt.Key.Key_Escape)
        dialogs[0].close()
        seen.append(dialogs[0].isVisible())
        release.set()

    monkeypatch.setattr(abstract_text, "compress_stored", held)
    QTimer.singleShot(0, press_then_release)
    lib = open_library(tmp_path / "lib", show_after_s=0)
    lib.close()
    assert seen == [True]


FIRST_DESK = textwrap.dedent("""
    import sys
    from paperdesk.core import abstract_text
    from paperdesk.cli.main import main
    compress = abstract_text.compress_stored
    def held(conn, progress=None):
        print("upgrading", flush=True)
        sys.stdin.readline()  # until the test has launched a second desk
        return compress(conn, progress)
    abstract_text.compress_stored = held
    sys.exit(main(["--library", sys.argv[1], "gui"]))
""")


def test_a_second_launch_while_the_library_upgrades_does_not_open_it_again(tmp_path, qapp):
    """The first desk listened only once its window was up: a launch during the upgrade opened (and
    upgraded) the same library a second time, and two desks ended up on it."""
    from test_abstract_text import _library_before_0015

    folder = tmp_path / "lib"
    _library_before_0015(folder, 10)
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    first = subprocess.Popen([sys.executable, "-c", FIRST_DESK, str(folder)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert first.stdout.readline().strip() == "upgrading"
        second = _second_launch(folder)
        out, _ = second.communicate(timeout=30)
        assert out.strip() == "found"
    finally:
        first.kill()
        first.communicate(timeout=30)
