"""Rows marked with `x` for a bulk action are painted with a tint and a ● in the star column.

The window installs this delegate only while something is marked: a Python hook per painted cell
costs about as much as the cell itself, and most of the time nothing is marked.
"""

from __future__ import annotations

from collections.abc import Callable

from paperdesk.gui.paper_model import COLUMN_KEYS
from paperdesk.gui.qt import QBrush, QColor, QPalette, QStyledItemDelegate

MARK_TINT = QColor(255, 170, 0, 70)  # amber, translucent: readable on light and dark palettes


class MarkDelegate(QStyledItemDelegate):
    def __init__(self, marked: set[str], ids: Callable[[int], str | None], parent=None):
        super().__init__(parent)
        self.marked = marked  # shared with the window: the delegate only reads it
        self._id_at = ids

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        if self._id_at(index.row()) in self.marked:
            option.backgroundBrush = QBrush(MARK_TINT)
            if index.column() == COLUMN_KEYS.index("star") and not option.text:
                option.text = "●"
            option.palette.setColor(QPalette.ColorRole.Highlight, QColor(200, 120, 0))
