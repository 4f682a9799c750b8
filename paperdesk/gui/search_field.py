"""The search field: debounced as-you-type query; Esc, Return or Down run what is typed now and hand
focus to the list, keeping the results (the clear button, or deleting the text, clears the search)."""

from __future__ import annotations

from paperdesk.gui.qt import QKeySequence, QLineEdit, Qt, QTimer, Signal
from paperdesk.gui.theme import icon

DEBOUNCE_MS = 80


class SearchField(QLineEdit):
    query_changed = Signal(str)  # after typing pauses for DEBOUNCE_MS
    leave = Signal()  # the user wants to go back to the list

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setPlaceholderText("Search  (Ctrl+F or /)   e.g. diffusion tag:ml")
        self.setClearButtonEnabled(True)
        self.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.flush)
        self.textEdited.connect(lambda _text: self._timer.start())
        self.textChanged.connect(self._on_changed)

    def _on_changed(self, text: str) -> None:
        if not text:  # the clear button or programmatic clear: apply at once
            self._timer.stop()
            self.query_changed.emit("")

    def cancel_pending(self) -> None:
        self._timer.stop()

    def flush(self) -> None:
        self._timer.stop()
        self.query_changed.emit(self.text())

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.flush()
            self.leave.emit()
            return
        if event.matches(QKeySequence.StandardKey.Find):
            self.selectAll()
            return
        super().keyPressEvent(event)
