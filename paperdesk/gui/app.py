"""`paperdesk gui`: the QApplication, the window, and the `--screenshot` mode."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from paperdesk import APP_ID, APP_NAME, __version__

SCREENSHOT_SIZE = (1280, 800)


def make_app(argv: list[str] | None = None):
    from paperdesk.gui.gil import apply_process_policy
    from paperdesk.gui.qt import QApplication
    from paperdesk.gui.theme import apply_theme

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or [sys.argv[0]])
    app.setOrganizationName(APP_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    apply_theme(app)
    apply_process_policy()
    return app


def open_library(folder: Path, show_after_s: float = 0.5):
    """`Library.open(folder)`. Upgrading an older library (a copy of it, then the migrations: 0015
    compresses every abstract, minutes at a million papers) runs on a thread of its own while a
    dialog shows how far it is; the library is then opened here, on the GUI thread."""
    import threading

    from paperdesk.core import Library
    from paperdesk.gui.qt import QEventLoop, QProgressDialog, QTimer

    class _UpgradeDialog(QProgressDialog):
        """Stays up until the upgrade ends: Esc or closing it would only hide it (the upgrade goes
        on, the desk appears minutes later out of nothing)."""

        def reject(self) -> None:
            pass

        def closeEvent(self, event) -> None:
            event.ignore()

    state: dict = {}

    def upgrade() -> None:
        try:
            lib = Library.open(folder, progress=lambda done, total, what: state.update(
                step=(done, total, what)))
            lib.defer_indexing = True  # indexing is the desk's writer's job
            state["warnings"] = lib.warnings  # the upgrade's own line, for the desk's status bar
            lib.close()
        except BaseException as exc:  # re-raised on the GUI thread
            state["error"] = exc

    thread = threading.Thread(target=upgrade, name="library-upgrade", daemon=True)
    thread.start()
    thread.join(show_after_s)  # an up-to-date library opens in milliseconds: no dialog
    if thread.is_alive():
        dialog = _UpgradeDialog("Upgrading the library…", "", 0, 0)
        dialog.setCancelButton(None)  # a migration stops only between its transactions: not here
        dialog.setWindowTitle(APP_NAME)
        dialog.setMinimumWidth(380)  # not resized as its label changes
        dialog.setMinimumDuration(0)
        loop, poll = QEventLoop(), QTimer(interval=100)

        def show_step() -> None:
            if "step" in state:
                done, total, what = state["step"]
                scale = max(1, total // 1_000_000)  # a QProgressBar holds an int
                dialog.setLabelText(f"Upgrading the library (only this once):\n{what}…")
                dialog.setMaximum(total // scale)
                dialog.setValue(done // scale)
            if not thread.is_alive():
                loop.quit()

        poll.timeout.connect(show_step)
        poll.start()
        dialog.show()
        loop.exec()
        poll.stop()
        dialog.hide()  # close() is refused, as the user's own closing is
        dialog.deleteLater()
    thread.join()
    if "error" in state:
        raise state["error"]
    lib = Library.open(folder)
    lib.warnings += state.get("warnings", [])
    return lib


def run(args: argparse.Namespace) -> int:
    screenshot = getattr(args, "screenshot", None)
    if screenshot and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a screenshot needs no screen
    from paperdesk.core.paths import default_library_dir

    folder = Path(args.library).expanduser() if getattr(args, "library", None) else default_library_dir()
    app = make_app()
    server = None
    if not screenshot:
        from paperdesk.gui.single_instance import InstanceServer, ask_running_instance

        if ask_running_instance(folder):
            print(f"paperdesk: already open on {folder}; brought that window forward")
            return 0
        # Listening before the library opens: an upgrade takes minutes, and a second launch then
        # must not open (and upgrade) the same library beside this one.
        server = InstanceServer(folder)
    try:
        return _open_desk(app, folder, server, screenshot)
    finally:
        if server is not None:
            server.close()


def _open_desk(app, folder: Path, server, screenshot) -> int:
    from paperdesk.core import LibraryError

    try:
        lib = open_library(folder)
    except LibraryError as exc:
        print(f"paperdesk: {exc}", file=sys.stderr)
        if not screenshot and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.critical(None, f"{APP_NAME} cannot open the library", str(exc))
        return 1
    from paperdesk.gui.main_window import MainWindow
    from paperdesk.gui.settings import open_settings

    window = MainWindow(lib, open_settings(), remember=not screenshot, refresh_feeds=not screenshot)
    try:
        if screenshot:
            return save_screenshot(window, Path(screenshot))
        server.activate_requested.connect(lambda: bring_forward(window))
        window.show()
        if lib.warnings:  # e.g. the upgrade's backup, to delete once all looks right
            window.status(lib.warnings[-1][:1].upper() + lib.warnings[-1][1:], 0)  # whole in its tooltip
        return app.exec()
    finally:
        window.jobs.shutdown()
        lib.close()


def bring_forward(window) -> None:
    from paperdesk.gui.qt import Qt

    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()


def wait_until_idle(window, timeout_ms: int = 120_000) -> None:
    """Run the event loop until background jobs (e.g. first-start indexing) are done and the reader
    has brought the list and the sidebar."""
    from paperdesk.gui.qt import QEventLoop, QTimer

    busy = lambda: window.jobs.busy or window.reading  # noqa: E731
    loop = QEventLoop()
    poll = QTimer(interval=25)
    poll.timeout.connect(lambda: loop.quit() if not busy() else None)
    QTimer.singleShot(timeout_ms, loop.quit)
    poll.start()
    if busy():
        loop.exec()
    poll.stop()


def save_screenshot(window, path: Path, size: tuple[int, int] = SCREENSHOT_SIZE) -> int:
    from paperdesk.gui.qt import QApplication

    window.resize(*size)
    window.show()
    wait_until_idle(window)  # so the shot shows the loaded desk, not a progress bar
    window.selection.move_current(0)
    window.table.setFocus()
    QApplication.processEvents()
    image = window.grab()
    if not image.save(str(path), "PNG"):
        print(f"paperdesk: cannot write screenshot {path}", file=sys.stderr)
        return 1
    print(f"screenshot saved: {path} ({image.width()}×{image.height()})")
    return 0
