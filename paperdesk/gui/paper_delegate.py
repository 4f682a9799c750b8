"""Paints the paper list's rows straight from the model's cached row texts.

Qt's QStyledItemDelegate asks the model for seven roles per cell (seven C++ -> Python calls) and
lays text out through the style's general item code: about 20 ms for a screen of 32 rows at
100k papers, over the 16 ms of a frame. Here the view (`paper_table.PaperTable`) hands each
visible row to `paint_row`: one Python call per row, a fill when alternate, selected or marked,
one laid-out text per cell, or the star pixmap. Rows marked with `x` for a bulk action get a
tint and a ● in the star column.

The delegate's own `paint` is QStyledItemDelegate's: nothing paints the list's cells outside
the view's paintEvent (no drag pixmaps), and the model answers every role it would ask for.

Texts are elided and laid out once (QStaticText) and kept by (text, width, weight): a repaint of
rows already seen (hover, selection, scrolling back) only draws glyphs, and dates, counts and
organisations repeat down the list.

Once the interest model has ranked (gui/for_you.py), the title cell ends in a small bar and a
0-100 figure: the paper's place in the whole library by that model ("83": above 83% of it). The
figures come from the ranker thread as one {id: figure} map per model; painting only reads it, and
nothing here moves a row. Hovering the figure explains it (`PaperTable`'s tooltip, `figure_at`).

A paint makes no throwaway Qt values (the row's rect, each text's position, the star's pixmap):
freeing a PySide wrapper lets go of the GIL, and while the writer thread runs Python each of those
costs the GUI thread a wait to take it back (a screen painted in 15-60 ms instead of 5 during an
import at 100k papers). One rect and one point are reused; star pixmaps are kept by size.
"""

from __future__ import annotations

from collections.abc import Mapping

from paperdesk.gui.paper_model import ALIGNMENT, COLUMN_KEYS, PaperModel
from paperdesk.gui.qt import (
    QAbstractItemView,
    QColor,
    QEvent,
    QFont,
    QObject,
    QPainter,
    QPalette,
    QPixmap,
    QPointF,
    QRect,
    QSize,
    QStaticText,
    QStyledItemDelegate,
    Qt,
    QTransform,
)

MARK_TINT = QColor(255, 170, 0, 70)  # amber, translucent: readable on light and dark palettes
MARK_HIGHLIGHT = QColor(200, 120, 0)
DIM_ALPHA = 120  # an archived paper's text in a view that mixes it with inbox papers (of 255)
TEXT_CACHE = 4000  # laid-out texts kept: a screen has ~200, titles are unique
MARGIN = 3  # px of text inset each side, as the Fusion style's item text margin
_STAR = COLUMN_KEYS.index("star")
TITLE = COLUMN_KEYS.index("title")
FIGURE_WIDTH = 34  # px at the title cell's right end: a bar behind "100"
# The figure's bar (its share filled) and track, in the highlight colour (on a selected row: in the
# highlighted text's, fainter, so the figure stays readable over it); on light and dark palettes.
BAR_ALPHA, TRACK_ALPHA = 110, 28
SELECTED_BAR_ALPHA, SELECTED_TRACK_ALPHA = 70, 22
# Where a text sits in its cell, from the model's alignment (left where it says nothing).
_LEFT_SIDE, _CENTRE, _RIGHT_SIDE = 0.0, 0.5, 1.0
_PLACE = tuple(_RIGHT_SIDE if align is not None and align & Qt.AlignmentFlag.AlignRight else
               _CENTRE if align is not None and align & Qt.AlignmentFlag.AlignHCenter else _LEFT_SIDE
               for align in ALIGNMENT)
_RESTYLE = frozenset({QEvent.Type.PaletteChange, QEvent.Type.FontChange, QEvent.Type.StyleChange,
                      QEvent.Type.ActivationChange})
_ELIDE = Qt.TextElideMode.ElideRight
_ROLES = (QPalette.ColorRole.Highlight, QPalette.ColorRole.HighlightedText, QPalette.ColorRole.Text,
          QPalette.ColorRole.AlternateBase)


class PaperDelegate(QStyledItemDelegate):
    def __init__(self, model: PaperModel, marked: set[str], view: QAbstractItemView):
        super().__init__(view)
        self.model = model
        self.marked = marked  # shared with the window: the delegate only reads it
        self._view = view
        # What every cell would otherwise read from its style option (each read makes a Python
        # object): fonts, and the (highlight, highlighted text, text, alternate base) colours of
        # the window's colour group; refreshed by the events that change them.
        # Fonts by (unread, archived shown as such): plain, bold, italic, bold italic.
        self._fonts: tuple[QFont, QFont, QFont, QFont] | None = None
        self._colors: tuple[QColor, QColor, QColor, QColor] | None = None
        self._dim: QColor | None = None  # an archived row's text in a mixed view
        self._texts: dict[tuple[str, int, int], tuple[QStaticText, float, float]] = {}
        # Star pixmaps by (size, device pixel ratio): the pixmap and its logical width and height.
        self._stars: dict[tuple[int, float], tuple[QPixmap, int, int]] = {}
        self._span, self._at = QRect(), QPointF()  # reused: see the module's docstring
        self._bar = QRect()
        # {paper id: 0-100} from the interest model (gui/for_you.py); empty: no figures drawn.
        self.figures: Mapping[str, int] = {}
        self._bars: tuple[QColor, QColor, QColor, QColor] | None = None  # bar, track; selected: bar, track
        view.installEventFilter(self)

    def set_figures(self, figures: Mapping[str, int]) -> None:
        self.figures = figures
        self._view.viewport().update()

    def figure_at(self, paper_id: str | None, x: int, cell_left: int, cell_width: int) -> int | None:
        """The figure shown at viewport x in this paper's title cell, if x is on it."""
        if paper_id is None or not self.figures or cell_width <= 3 * FIGURE_WIDTH or \
                x < cell_left + cell_width - FIGURE_WIDTH:
            return None
        return self.figures.get(paper_id)

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() in _RESTYLE:
            self._colors = self._fonts = self._bars = None
            self._texts.clear()
            self._stars.clear()
        return False

    def _style(self) -> tuple[tuple[QFont, QFont, QFont, QFont], tuple[QColor, QColor, QColor, QColor]]:
        if self._fonts is None:
            fonts = []
            for italic in (False, True):
                for bold in (False, True):
                    font = QFont(self._view.font())
                    font.setBold(bold)
                    font.setItalic(italic)
                    fonts.append(font)
            self._fonts = tuple(fonts)  # type: ignore[assignment]
        if self._colors is None:
            active = self._view.isActiveWindow()
            group = QPalette.ColorGroup.Active if active else QPalette.ColorGroup.Inactive
            palette = self._view.palette()
            self._colors = tuple(palette.color(group, role) for role in _ROLES)  # type: ignore[assignment]
            self._dim = QColor(self._colors[2])  # type: ignore[index]
            self._dim.setAlpha(DIM_ALPHA)
            bars = []
            for base, alphas in ((self._colors[0], (BAR_ALPHA, TRACK_ALPHA)),  # type: ignore[index]
                                 (self._colors[1], (SELECTED_BAR_ALPHA, SELECTED_TRACK_ALPHA))):  # type: ignore[index]
                for alpha in alphas:
                    color = QColor(base)
                    color.setAlpha(alpha)
                    bars.append(color)
            self._bars = tuple(bars)  # type: ignore[assignment]
        return self._fonts, self._colors  # type: ignore[return-value]

    def paint_row(self, painter: QPainter, r: int, y: int, height: int,
                  columns: list[tuple[int, int, int]], selected: bool) -> None:
        """Row `r` at `y` in the given (column, x, width) cells: background, texts, star."""
        model = self.model
        row = model.row_data(r)
        fonts, colors = self._style()
        marked = bool(self.marked) and model.id_at(r) in self.marked
        left = columns[0][1]
        span = self._span
        span.setRect(left, y, columns[-1][1] + columns[-1][2] - left, height)
        if r & 1 and not selected:  # alternating rows, as the style's row panel
            painter.fillRect(span, colors[3])
        if selected:
            painter.fillRect(span, MARK_HIGHLIGHT if marked else colors[0])
        elif marked:
            painter.fillRect(span, MARK_TINT)
        cells = model.cells(row)
        bold = row.get("is_read") == 0
        archived = model.mixed_status and row.get("status") == "archived"  # dimmed, in italics
        variant = bold + 2 * archived
        painter.setPen(colors[1] if selected else self._dim if archived else colors[2])
        if variant:
            painter.setFont(fonts[variant])
        texts, at = self._texts, self._at
        figures = self.figures
        for c, x, width in columns:
            if c == _STAR:
                if row.get("starred"):
                    self._paint_star(painter, x, y, width, height)
                    continue
                text = "●" if marked else ""
            else:
                text = cells[c]
                if c == TITLE and figures and width > 3 * FIGURE_WIDTH:
                    width -= FIGURE_WIDTH
                    figure = figures.get(row["id"])
                    if figure is not None:
                        self._paint_figure(painter, figure, x + width, y, height, selected, variant)
            if not text:
                continue
            width -= 2 * MARGIN
            key = (text, width, variant)
            laid = texts.get(key)
            if laid is None:
                if len(texts) >= TEXT_CACHE:
                    texts.clear()
                laid = texts[key] = _lay_out(painter, text, width)
            static, text_width, text_height = laid
            at.setX(x + MARGIN + (width - text_width) * _PLACE[c])
            at.setY(y + (height - text_height) / 2)
            painter.drawStaticText(at, static)
        if variant:
            painter.setFont(fonts[0])

    def _paint_figure(self, painter: QPainter, figure: int, x: int, y: int, height: int, selected: bool,
                      variant: int) -> None:
        """A track with `figure`% of it filled, and the figure over it (in the row's pen)."""
        bar_color, track_color = self._bars[2:] if selected else self._bars[:2]  # type: ignore[index]
        bar = self._bar
        inner = FIGURE_WIDTH - 2 * MARGIN
        bar.setRect(x + MARGIN, y + 3, inner, height - 6)
        painter.fillRect(bar, track_color)
        bar.setWidth(max(round(inner * figure / 100), 1))
        painter.fillRect(bar, bar_color)
        text = str(figure)
        key = (text, inner, variant)
        laid = self._texts.get(key)
        if laid is None:
            laid = self._texts[key] = _lay_out(painter, text, inner)
        static, text_width, text_height = laid
        self._at.setX(x + MARGIN + (inner - text_width) / 2)
        self._at.setY(y + (height - text_height) / 2)
        painter.drawStaticText(self._at, static)

    def _paint_star(self, painter: QPainter, x: int, y: int, width: int, height: int) -> None:
        """The star centred in its cell, as QStyle.drawItemPixmap places a pixmap."""
        size, dpr = min(width, height) - 6, self._view.devicePixelRatioF()  # sharp on any screen
        star = self._stars.get((size, dpr))
        if star is None:
            pixmap = self.model.star_icon.pixmap(QSize(size, size), dpr)
            ratio = pixmap.devicePixelRatio()
            star = self._stars[(size, dpr)] = (pixmap, round(pixmap.width() / ratio),
                                               round(pixmap.height() / ratio))
        pixmap, w, h = star
        painter.drawPixmap(x + (width - w) // 2, y + (height - h) // 2, pixmap)


def _lay_out(painter: QPainter, text: str, width: int) -> tuple[QStaticText, float, float]:
    """`text` elided to `width` in the painter's font, laid out once; with its size."""
    static = QStaticText(painter.fontMetrics().elidedText(text, _ELIDE, width))
    static.setTextFormat(Qt.TextFormat.PlainText)
    static.prepare(QTransform(), painter.font())
    size = static.size()
    return static, size.width(), size.height()
