"""`paperdesk gui`: the QApplication, the window, and the `--screenshot` mode."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from paperdesk import APP_ID, APP_NAME, __version__

SCREENSHOT_SIZE = (1280, 800)


def make_app(argv: list[str] | None = None):
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
    return app


def run(args: argparse.Namespace) -> int:
    screenshot = getattr(args, "screenshot", None)
    if screenshot and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a screenshot needs no screen
    from paperdesk.core import Library, LibraryError

    try:
        lib = Library.open(getattr(args, "library", None))
    except LibraryError as exc:
        print(f"paperdesk: {exc}", file=sys.stderr)
        return 1
    app = make_app()
    from paperdesk.gui.main_window import MainWindow
    from paperdesk.gui.settings import open_settings

    window = MainWindow(lib, open_settings(), remember=not screenshot)
    try:
        if screenshot:
            return save_screenshot(window, Path(screenshot))
        window.show()
        return app.exec()
    finally:
        window.jobs.shutdown()
        lib.close()


def save_screenshot(window, path: Path, size: tuple[int, int] = SCREENSHOT_SIZE) -> int:
    from paperdesk.gui.qt import QApplication

    window.resize(*size)
    window.show()
    window.move_current(0)
    window.table.setFocus()
    QApplication.processEvents()
    image = window.grab()
    if not image.save(str(path), "PNG"):
        print(f"paperdesk: cannot write screenshot {path}", file=sys.stderr)
        return 1
    print(f"screenshot saved: {path} ({image.width()}×{image.height()})")
    return 0
