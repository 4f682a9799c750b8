"""Guard against a Qt binding that corrupts Python's reference counts (seen in PySide6 6.12.0)."""

from __future__ import annotations

import sys


def test_void_qt_calls_keep_none_alive(qapp):
    from paperdesk.gui.qt import QApplication, QWidget

    widget = QWidget()
    before = sys.getrefcount(None)
    for _ in range(500):
        QApplication.processEvents()
        widget.setWindowTitle("x")
    assert sys.getrefcount(None) - before > -50  # a broken binding loses one reference per call
