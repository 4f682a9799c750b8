"""Rows marked with `x` for a bulk action are painted with a tint and a ● in the star column."""

from __future__ import annotations

from paperdesk.gui.paper_model import COLUMN_KEYS, ID_ROLE
from paperdesk.gui.qt import QBrush, QColor, QPalette, QStyledItemDelegate

MARK_TINT = QColor(255, 170, 0, 70)  # amber, translucent: readable on light and dark palettes


class MarkDelegate(QStyledItemDelegate):
    def __init__(self, marked: set[str], parent=None):
        super().__init__(parent)
        self.marked = marked  # shared with the window: the delegate only reads it

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        if index.data(ID_ROLE) in self.marked:
            option.backgroundBrush = QBrush(MARK_TINT)
            if index.column() == COLUMN_KEYS.index("star") and not option.text:
                option.text = "●"
            option.palette.setColor(QPalette.ColorRole.Highlight, QColor(200, 120, 0))
