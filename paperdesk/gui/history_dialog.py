"""Edit > History: every recorded operation, newest first; undo back to any point (or redo up to it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperdesk.core import Library
from paperdesk.gui.qt import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    Qt,
    QVBoxLayout,
)

if TYPE_CHECKING:
    from paperdesk.gui.main_window import MainWindow

OP_ROLE = Qt.ItemDataRole.UserRole + 1


def undo_back_to(lib: Library, op_id: int) -> int:
    """Undo until operation `op_id` is undone; returns how many operations were undone."""
    n = 0
    while True:
        op, _changes = lib.undo() if _newest_done(lib) >= op_id else (None, None)
        if op is None:
            return n
        n += 1


def _newest_done(lib: Library) -> int:
    row = lib.conn.execute("SELECT max(id) FROM operations WHERE undone = 0").fetchone()
    return row[0] or 0


def redo_up_to(lib: Library, op_id: int) -> int:
    n = 0
    while lib.conn.execute("SELECT 1 FROM operations WHERE undone = 1 AND id <= ?", (op_id,)).fetchone():
        op, _changes = lib.redo()
        if op is None:
            break
        n += 1
    return n


class HistoryDialog(QDialog):
    def __init__(self, window: MainWindow, parent=None):
        super().__init__(parent)
        self.window_ = window
        self.setWindowTitle("History")
        self.list = QListWidget()
        self.undo_button = QPushButton("Undo back to here")
        self.undo_button.setToolTip("Undo the selected change and every change after it")
        self.redo_button = QPushButton("Redo up to here")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.undo_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.redo_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.undo_button.clicked.connect(self.undo_to_selected)
        self.redo_button.clicked.connect(self.redo_to_selected)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        layout = QVBoxLayout(self)
        note = QLabel("Every change is kept, across restarts. "
                      "Greyed entries are undone (redo brings them back).")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(560, 480)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for op in self.window_.lib.history():
            when = op.created_at[:19].replace("T", " ")
            item = QListWidgetItem(f"{when}   {op.label}" + ("   (undone)" if op.undone else ""))
            item.setData(OP_ROLE, (op.id, op.undone))
            if op.undone:
                item.setForeground(self.palette().placeholderText())
            self.list.addItem(item)
        self._update_buttons()

    def _selected(self) -> tuple[int, bool] | None:
        item = self.list.currentItem()
        return item.data(OP_ROLE) if item else None

    def _update_buttons(self) -> None:
        sel = self._selected()
        self.undo_button.setEnabled(sel is not None and not sel[1])
        self.redo_button.setEnabled(sel is not None and sel[1])

    def undo_to_selected(self) -> None:
        sel = self._selected()
        if sel is None:
            return
        op_id = sel[0]
        self.window_.write("Undo", lambda lib: undo_back_to(lib, op_id), self._done("Undid"))

    def redo_to_selected(self) -> None:
        sel = self._selected()
        if sel is None:
            return
        op_id = sel[0]
        self.window_.write("Redo", lambda lib: redo_up_to(lib, op_id), self._done("Redid"))

    def _done(self, verb: str):
        def done(n: object) -> None:
            self.window_.status(f"{verb} {n} change{'s' if n != 1 else ''}")
            self.refresh()
        return done
