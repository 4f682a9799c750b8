"""Paints the paper list's cells straight from the model's cached row texts.

Qt's QStyledItemDelegate asks the model for seven roles per cell (seven C++ -> Python calls) and
lays text out through the style's general item code: about 20 ms for a screen of 32 rows at
100k papers, over the 16 ms of a frame. Here a cell is one Python call: a fill when selected or
marked, one elided `drawText`, or the star pixmap. Rows marked with `x` for a bulk action get a
tint and a ● in the star column.
"""

from __future__ import annotations

from paperdesk.gui.paper_model import ALIGNMENT, COLUMN_KEYS, PaperModel
from paperdesk.gui.qt import (
    QAbstractItemView,
    QApplication,
    QColor,
    QEvent,
    QFont,
    QModelIndex,
    QObject,
    QPainter,
    QPalette,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
)

MARK_TINT = QColor(255, 170, 0, 70)  # amber, translucent: readable on light and dark palettes
MARK_HIGHLIGHT = QColor(200, 120, 0)
ELIDED_CACHE = 5000  # elided short texts kept (a few hundred distinct ones fill a screen)
MARGIN = 3  # px of text inset each side, as the Fusion style's item text margin
_STAR, _TITLE = COLUMN_KEYS.index("star"), COLUMN_KEYS.index("title")
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_ALIGN = tuple(align or _LEFT for align in ALIGNMENT)  # the model's, left where it says nothing
_SELECTED = QStyle.StateFlag.State_Selected.value
_RESTYLE = frozenset({QEvent.Type.PaletteChange, QEvent.Type.FontChange, QEvent.Type.StyleChange,
                      QEvent.Type.ActivationChange})
_ELIDE = Qt.TextElideMode.ElideRight
_ROLES = (QPalette.ColorRole.Highlight, QPalette.ColorRole.HighlightedText, QPalette.ColorRole.Text)


class PaperDelegate(QStyledItemDelegate):
    def __init__(self, model: PaperModel, marked: set[str], view: QAbstractItemView):
        super().__init__(view)
        self.model = model
        self.marked = marked  # shared with the window: the delegate only reads it
        self._view = view
        # What every cell would otherwise read from its style option (each read makes a Python
        # object): fonts, and the (highlight, highlighted text, text) colours of the window's
        # colour group; refreshed by the events that change them.
        self._fonts: tuple[QFont, QFont] | None = None
        self._colors: tuple[QColor, QColor, QColor] | None = None
        self._elided: dict[tuple[str, int, bool], str] = {}
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _RESTYLE:
            self._colors = self._fonts = None
            self._elided.clear()
        return False

    def _style(self) -> tuple[tuple[QFont, QFont], tuple[QColor, QColor, QColor]]:
        if self._fonts is None:
            bold = QFont(self._view.font())
            bold.setBold(True)
            self._fonts = (self._view.font(), bold)
        if self._colors is None:
            active = self._view.isActiveWindow()
            group = QPalette.ColorGroup.Active if active else QPalette.ColorGroup.Inactive
            palette = self._view.palette()
            self._colors = tuple(palette.color(group, role) for role in _ROLES)  # type: ignore[assignment]
        return self._fonts, self._colors  # type: ignore[return-value]

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        r, c = index.row(), index.column()
        model = self.model
        row = model.row_data(r)
        fonts, colors = self._style()
        selected = option.state.value & _SELECTED  # an int: Python enum flag arithmetic costs µs
        marked = bool(self.marked) and model.id_at(r) in self.marked
        rect = option.rect
        if selected:
            painter.fillRect(rect, MARK_HIGHLIGHT if marked else colors[0])
        elif marked:
            painter.fillRect(rect, MARK_TINT)
        if c == _STAR:
            if row.get("starred"):
                size = min(rect.width(), rect.height()) - 6
                pixmap = model.star_icon.pixmap(size, size)
                QApplication.style().drawItemPixmap(painter, rect, Qt.AlignmentFlag.AlignCenter, pixmap)
                return
            text = "●" if marked else ""
        else:
            text = model.cells(row)[c]
        if not text:
            return
        painter.setPen(colors[1] if selected else colors[2])
        rect.adjust(MARGIN, 0, -MARGIN, 0)
        bold = row.get("is_read") == 0
        if bold:
            painter.setFont(fonts[1])
        width = rect.width()
        if c == _TITLE:  # unique per paper: nothing to reuse
            shown = painter.fontMetrics().elidedText(text, _ELIDE, width)
        else:  # dates, counts, organisations and tags repeat down the list: elide each once
            key = (text, width, bold)
            shown = self._elided.get(key)
            if shown is None:
                if len(self._elided) > ELIDED_CACHE:
                    self._elided.clear()
                shown = self._elided[key] = painter.fontMetrics().elidedText(text, _ELIDE, width)
        painter.drawText(rect, _ALIGN[c], shown)
        if bold:
            painter.setFont(fonts[0])
