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

from collections.abc import Callable

from paperdesk.gui.paper_delegate import FIGURE_WIDTH, MARGIN, TITLE, PaperDelegate
from paperdesk.gui.paper_model import COLUMN_KEYS, COLUMNS, SORT_COLUMN, PaperModel
from paperdesk.gui.qt import (
    QAbstractItemView,
    QEvent,
    QFont,
    QFontMetrics,
    QHeaderView,
    QModelIndex,
    QPainter,
    QPaintEvent,
    QPoint,
    QRect,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTableView,
)

FIRST_DESCENDING = {"date", "upvotes"}  # orders a reader wants from the top (Qt's first click ascends)
DEFAULT_WIDTHS = {"star": 26, "who": 120, "date": 88, "upvotes": 40, "tags": 90, "marks": 26}
# The Tags column at first holds a tag of a usual length and a short one in an unread (bold) row:
# at 90 px "#benchmark" alone was cut ("#benchma…"); two long tags would take the title's room. A
# width the user gives it is kept (the header's state in the settings, as for every column).
TAGS_SHOWN = "#benchmark #math"


def header_labels(model: PaperModel) -> QStandardItemModel:
    """The paper model's column headers (texts and tooltips) in a model answered by Qt itself."""
    labels = QStandardItemModel(0, model.columnCount())
    for c in range(model.columnCount()):
        item = QStandardItem(model.headerData(c, Qt.Orientation.Horizontal))
        tip = model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
        if tip:
            item.setToolTip(tip)
        if COLUMNS[c][2] in FIRST_DESCENDING:  # the header's first click on it: most / newest first
            item.setData(Qt.SortOrder.DescendingOrder.value, Qt.ItemDataRole.InitialSortOrderRole)
        labels.setHorizontalHeaderItem(c, item)
    return labels


class PaperTable(QTableView):
    def __init__(self, model: PaperModel, marked: set[str]):
        super().__init__(
            selectionBehavior=QAbstractItemView.SelectionBehavior.SelectRows,
            selectionMode=QAbstractItemView.SelectionMode.ExtendedSelection,
            editTriggers=QAbstractItemView.EditTrigger.NoEditTriggers,
            verticalScrollMode=QAbstractItemView.ScrollMode.ScrollPerPixel,
            tabKeyNavigation=False,  # Tab leaves the list (to the reader, the sidebar…)
            showGrid=False, wordWrap=False, alternatingRowColors=True)
        rows = self.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row sizing: 100k rows are free
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.setModel(model)
        self.header_labels = header_labels(model)  # after setModel, which gives the header the list's
        header = self.horizontalHeader()
        header.setModel(self.header_labels)
        header.setHighlightSections(False)
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        bold = QFont(self.font())
        bold.setBold(True)
        tags = QFontMetrics(bold).horizontalAdvance(TAGS_SHOWN) + 2 * MARGIN + 2
        for key, width in {**DEFAULT_WIDTHS, "tags": max(DEFAULT_WIDTHS["tags"], tags)}.items():
            self.setColumnWidth(COLUMN_KEYS.index(key), width)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(SORT_COLUMN["date"], Qt.SortOrder.DescendingOrder)
        self.rows_painter = PaperDelegate(model, marked, self)
        self.setItemDelegate(self.rows_painter)
        self._root = QModelIndex()
        # Hovering a row's For you figure: explain_figure(paper id, figure, where, the figure's
        # rect in the viewport) answers later (explained on the ranker thread; gui/for_you.py).
        self.explain_figure: Callable[[str, int, QPoint, QRect], None] | None = None

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.explain_figure is not None:
            pos = event.pos()  # type: ignore[attr-defined]
            row = self.rowAt(pos.y())
            if row >= 0 and self.columnAt(pos.x()) == TITLE:
                pid = self.model().id_at(row)  # type: ignore[attr-defined]
                left, width = self.columnViewportPosition(TITLE), self.columnWidth(TITLE)
                figure = self.rows_painter.figure_at(pid, pos.x(), left, width)
                if figure is not None:
                    where = QRect(left + width - FIGURE_WIDTH, self.rowViewportPosition(row), FIGURE_WIDTH,
                                  self.rowHeight(row))
                    self.explain_figure(pid, figure, event.globalPos(), where)  # type: ignore[attr-defined]
                    return True
        return super().viewportEvent(event)

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
