"""GUI fixtures: a window over a real library, settings in a temp ini file, no user state touched."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

# The offscreen platform warns that it cannot resize native windows; harmless, not our warning.
OFFSCREEN_NOISE = "propagateSizeHints"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/gui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))
            item.add_marker(pytest.mark.gui)


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


@pytest.fixture
def make_window(qtbot, settings_path):
    """make_window(lib) -> a shown MainWindow; closed (settings saved, writer stopped) at teardown."""
    from paperdesk.gui.app import make_app
    from paperdesk.gui.main_window import MainWindow
    from paperdesk.gui.settings import open_settings

    make_app()
    windows = []

    def make(lib, show: bool = True, size: tuple[int, int] | None = (1100, 700)):
        window = MainWindow(lib, open_settings(str(settings_path)))
        qtbot.addWidget(window)
        if show:
            if size:
                window.resize(*size)
            window.show()
            window.activateWindow()
            qtbot.waitExposed(window)
            qtbot.waitUntil(window.isActiveWindow)
            qtbot.waitUntil(lambda: not window.jobs.busy, timeout=30_000)  # startup indexing
        qtbot.waitUntil(lambda: not window.reading, timeout=30_000)  # the list and sidebar's reads
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


@pytest.fixture(autouse=True)
def restore_interpreter_policy():
    """The desk sets the collector's thresholds and the switch interval for the process
    (gui/gil.py) and freezes what it keeps: no test inherits that from another."""
    import gc
    import sys

    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    yield
    gc.set_threshold(*thresholds)
    sys.setswitchinterval(interval)
    gc.unfreeze()


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    """GUI tests never read the developer's own keys.toml or templates, nor fetch PDFs unasked."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PAPERDESK_FETCH_STARRED", "0")  # no background downloads of starred papers


@pytest.fixture
def desk(make_window, seeded, qtbot):
    """A window on the sample digests with the list focused on the first paper (files may override)."""
    window = make_window(seeded)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    window.selection.move_current(0)
    return window


@pytest.fixture
def reader_runs(monkeypatch):
    """runs(reader): how many requests a ReaderThread has run since this fixture was made (counted
    here, around each request's function: the product keeps no counter for tests)."""
    from paperdesk.gui.reader_thread import ReaderThread

    ran: dict[int, int] = {}
    real_submit = ReaderThread.submit

    def submit(self, channel, fn, callback=None, **kwargs):
        def counted(lib):  # on the reader's thread: counted once the request has run
            try:
                return fn(lib)
            finally:
                ran[id(self)] = ran.get(id(self), 0) + 1

        return real_submit(self, channel, counted, callback, **kwargs)

    monkeypatch.setattr(ReaderThread, "submit", submit)
    return lambda reader: ran.get(id(reader), 0)


@pytest.fixture
def settle(qtbot):
    """settle(window): wait until the writer has run every queued write (every desk write is a job)
    and the reader has answered what they made the desk ask for (the list, the sidebar)."""
    def wait(window, timeout: int = 10_000) -> None:
        qtbot.waitUntil(lambda: not window.jobs.busy and not window.reading, timeout=timeout)

    return wait
