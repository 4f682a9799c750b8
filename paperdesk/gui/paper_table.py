"""The paper list's view: paints each visible row with one Python call.

QTableView's paintEvent calls the delegate once per cell: seven columns make ~220 calls a screen,
each wrapping a painter, a style option and an index for Python (~25 µs apiece, a third of a
page scroll at 100k papers). This paintEvent walks the rows the paint event exposes and hands
each one to `PaperDelegate.paint_row`. The list has no grid, no spans and no drag and drop, so
that is all QTableView's own paintEvent would draw here.

The header reads its labels from a model of its own, a QStandardItemModel filled once from the
paper model's `headerData`: a header paint asks for a dozen roles per section, and each answer
from Python was a call in with the GIL (~130 calls after every new list; each a wait while the
reader or writer thread runs Python). A new list no longer resets the header at all.
"""

from __future__ import annotations

from paperdesk.gui.paper_delegate import PaperDelegate
from paperdesk.gui.paper_model import PaperModel
from paperdesk.gui.qt import (
    QModelIndex,
    QPainter,
    QPaintEvent,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTableView,
)


def header_labels(model: PaperModel) -> QStandardItemModel:
    """The paper model's column headers (texts and tooltips) in a model answered by Qt itself."""
    labels = QStandardItemModel(0, model.columnCount())
    for c in range(model.columnCount()):
        item = QStandardItem(model.headerData(c, Qt.Orientation.Horizontal))
        tip = model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
        if tip:
            item.setToolTip(tip)
        labels.setHorizontalHeaderItem(c, item)
    return labels


class PaperTable(QTableView):
    def __init__(self, model: PaperModel, marked: set[str]):
        super().__init__()
        self.setModel(model)
        self.header_labels = header_labels(model)  # after setModel, which gives the header the list's
        self.horizontalHeader().setModel(self.header_labels)
        self.rows_painter = PaperDelegate(model, marked, self)
        self.setItemDelegate(self.rows_painter)
        self._root = QModelIndex()

    def paintEvent(self, event: QPaintEvent) -> None:
        area = event.rect()
        first = self.rowAt(area.top())
        if first < 0:  # below the last row (or no rows): the viewport's background shows
            return
        last = self.rowAt(area.bottom())
        if last < 0:
            last = self.model().rowCount() - 1
        header = self.horizontalHeader()
        columns = []
        for c in range(header.count()):
            x, width = self.columnViewportPosition(c), self.columnWidth(c)
            if width > 0 and x + width > area.left() and x <= area.right() and not header.isSectionHidden(c):
                columns.append((c, x, width))
        if not columns:
            return
        selection, root, paint_row = self.selectionModel(), self._root, self.rows_painter.paint_row
        painter = QPainter(self.viewport())
        try:
            for r in range(first, last + 1):
                paint_row(painter, r, self.rowViewportPosition(r), self.rowHeight(r), columns,
                          selection.isRowSelected(r, root))
        finally:
            painter.end()
