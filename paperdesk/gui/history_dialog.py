"""Edit > History: every recorded operation, newest first; undo back to any point (or redo up to it)."""

from __future__ import annotations

from collections.abc import Callable

from paperdesk.core.library import Library, describe_origin
from paperdesk.gui.layout import button, column, wrapped
from paperdesk.gui.qt import (
    QDialog,
    QDialogButtonBox,
    QListWidget,
    QListWidgetItem,
    Qt,
    QWidget,
)

OP_ROLE = Qt.ItemDataRole.UserRole + 1


class HistoryDialog(QDialog):
    def __init__(self, lib: Library, write: Callable[..., object], status: Callable[..., None],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.lib, self.write, self.status = lib, write, status  # write: `JobRunner.write`
        self.setWindowTitle("History")
        self.list = QListWidget()
        # An entry longer than the dialog wraps instead of running off behind a sideways scroll bar.
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.undo_button = button("Undo back to here", self.undo_to_selected,
                                  "Undo the selected change and every change after it")
        self.redo_button = button("Redo up to here", self.redo_to_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.undo_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.redo_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        note = wrapped("Every change is kept, across restarts. Undo takes back this window's own changes; "
                       "here you can also undo those made elsewhere (named in brackets). "
                       "Greyed entries are undone (redo brings them back).")
        column(note, self.list, buttons, on=self)
        self.resize(760, 480)  # an entry naming a paper and where it was made fits on its line
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        lib = self.lib
        for op in lib.history():
            when = op.created_at[:19].replace("T", " ")
            # Undo (u) takes back only this desk's changes; here every change shows who made it.
            who = "" if op.origin == lib.origin else f"   ({describe_origin(op.origin)})"
            item = QListWidgetItem(f"{when}   {op.label}{who}" + ("   (undone)" if op.undone else ""))
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
        self._replay("Undo", "Undid", lambda lib, op_id: lib.undo_back_to(op_id))

    def redo_to_selected(self) -> None:
        self._replay("Redo", "Redid", lambda lib, op_id: lib.redo_up_to(op_id))

    def _replay(self, label: str, verb: str, replay) -> None:
        sel = self._selected()
        if sel is None:
            return
        op_id = sel[0]

        def done(n: object) -> None:
            self.status(n if isinstance(n, str) else f"{verb} {n} change{'s' if n != 1 else ''}")
            self.refresh()

        self.write(label, lambda lib: replay(lib, op_id), done)
