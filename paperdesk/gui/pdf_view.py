"""The PDF view: the pages of one PDF in a continuous column, with zoom, links, search and highlights.

Pages come from `PageRenderer` (its own thread) at the zoom times the screen's device pixel ratio, so
text stays sharp on high-DPI screens; until a page arrives its slot shows a stretched rendering at
another zoom or a blank sheet. Everything else here is cheap: layout is a list of page tops, and
paint draws cached images, then highlights from their stored quads, search matches and the
selection on top. PDF coordinates (points in page space, origin bottom-left) map to the widget by
`to_view` and back by `_to_page`, through each page's `PageFrame` (its visible box need not start
at (0, 0); it may be turned), which arrives with the page's first rendering.
Painting never calls pdfium (it would wait for a render in progress): each rendered page arrives
with its links and annotations; a search runs on the render thread, and so does reading the character
boxes of visible pages that hold matches, from which matches are drawn (`line_rects`). Boxes are not
read with every render: ~1600 Python calls a page, each holding the GIL a little, slowed the GUI
thread while scrolling. A click reads its page's boxes at once (waiting for a render at most).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from paperdesk.core.annotations import Highlight
from paperdesk.core.pdf import Annotation, Link, PdfDocument
from paperdesk.core.pdf.document import PageFrame, Rect, char_index_at, line_rects
from paperdesk.core.reader_html import HIGHLIGHT_CSS
from paperdesk.gui.pdf_render import PageCache, PageRenderer, scale_key
from paperdesk.gui.qt import (
    QAbstractScrollArea,
    QApplication,
    QColor,
    QDesktopServices,
    QEvent,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPointF,
    QRectF,
    Qt,
    QTimer,
    QToolTip,
    QUrl,
    Signal,
)

GAP = 10  # logical pixels between pages and around them
ZOOMS = (0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0)  # pixels per point
PREFETCH = 2  # pages rendered ahead of the visible ones
HISTORY = 50  # places Back remembers
OPENABLE_SCHEMES = ("http", "https", "mailto")  # a PDF's links to anything else are not opened


@dataclass(frozen=True)
class Selection:
    """Characters from `start` on `page` to `end` (excluded) on `end_page`, in reading order: a
    drag may cross page breaks (the pages between are selected whole)."""

    page: int
    start: int
    end: int
    end_page: int

    def parts(self, lengths: Callable[[int], int]) -> list[tuple[int, int, int]]:
        """(page, start, end) per page, given each page's text length."""
        return [(p, self.start if p == self.page else 0, self.end if p == self.end_page else lengths(p))
                for p in range(self.page, self.end_page + 1)]


# What a highlight is made of: one part per page (page, start, end, quote, quads in PDF points).
HighlightPart = tuple[int, int, int, str, list[list[float]]]


def _is_word(c: str) -> bool:
    return c.isalnum() or c in "-'’_"


def _one_line(text: str, limit: int = 120) -> str:
    """A link's target for the status bar: one line, not too long (a PDF can hold anything)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def openable_url(uri: str) -> QUrl | None:
    """The URL a PDF link may open in the system browser or mail program: http(s) with a host, or
    mailto; None for anything else (file:, javascript:, other programs' schemes, no scheme)."""
    url = QUrl(uri.strip(), QUrl.ParsingMode.StrictMode)
    scheme = url.scheme().lower()
    if not url.isValid() or scheme not in OPENABLE_SCHEMES:
        return None
    if scheme != "mailto" and not url.host():
        return None
    return url


class PdfView(QAbstractScrollArea):
    page_changed = Signal(int, int)  # current page (0-based), page count
    message = Signal(str)
    highlight_activated = Signal(int)  # a highlight's id (double-click: comment it)
    selection_changed = Signal()
    history_changed = Signal(bool, bool)  # whether Back, Forward have a place to go to
    found = Signal(int, int)  # the current match (0-based, -1: none) and how many the last search found

    def __init__(self, renderer: PageRenderer | None = None, parent=None):
        super().__init__(parent)
        self.renderer = renderer or PageRenderer(self)
        self.renderer.page_ready.connect(self._page_ready)
        self.cache = PageCache()
        self.doc: PdfDocument | None = None
        self.zoom = 1.0
        self.fit_width = True
        self._tops: list[float] = []
        self._height = 0.0
        self._width = 0.0
        self._links: dict[int, list[Link]] = {}
        self._annots: dict[int, list[Annotation]] = {}
        self._frames: dict[int, PageFrame] = {}
        self.highlights: list[Highlight] = []
        self.matches: list[tuple[int, int, int]] = []
        self._boxes: dict[int, np.ndarray] = {}
        self._boxes_pending: set[int] = set()
        self._match_unplaced = False  # the current match's page was not rendered when it was shown
        self.match_index = -1
        self._searches = 0  # a search's answer is used only if no newer search was asked for since
        self.selection: Selection | None = None
        self._selection_rects: dict[int, tuple[int, int, list[Rect]]] = {}  # page: start, end, rects
        self._anchor: tuple[int, int] | None = None  # page, char index where a drag started
        self._drag_pos: QPointF | None = None
        self._pressed_link: Link | None = None  # followed on release, unless the press became a drag
        self._press_pos = QPointF()
        self._drag_scroll = QTimer(self)  # a drag held above or below the pages scrolls them
        self._drag_scroll.setInterval(30)
        self._drag_scroll.timeout.connect(self._drag_scroll_step)
        self._last_page = -1
        self._hovered_link: Link | None = None
        self._seen_width = 0  # the viewport's width at the last resize
        self._back: list[tuple[int, float]] = []  # places left by a jump (link, outline, go to page)
        self._forward: list[tuple[int, float]] = []  # places Back left, newest last
        self._at_match: tuple[int, float] | None = None  # where the last match shown put the view
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.horizontalScrollBar().valueChanged.connect(lambda _v: self.viewport().update())
        self.verticalScrollBar().setSingleStep(40)

    # -- document -------------------------------------------------------------------------------
    def set_document(self, doc: PdfDocument | None) -> None:
        """Show `doc` (None: nothing); the previous document is closed by the render thread."""
        self.renderer.set_document(doc)
        self.doc = doc
        self.cache.clear()
        self._links.clear()
        self._annots.clear()
        self._frames.clear()
        self._boxes.clear()
        self._boxes_pending.clear()
        self.clear_find()
        self._set_selection(None)
        self._last_page = -1
        self._back.clear()
        self._forward.clear()
        self._at_match = None
        self.history_changed.emit(False, False)
        self._layout(keep_position=False)
        self.verticalScrollBar().setValue(0)
        self.viewport().update()
        self._request_pages()
        self._report_page()

    def set_highlights(self, highlights: list[Highlight]) -> None:
        # One not located in a newer file of the paper keeps its old boxes: listed, not drawn.
        self.highlights = [h for h in highlights if h.page is not None and h.quads and h.located]
        self.viewport().update()

    @property
    def page_count(self) -> int:
        return self.doc.page_count if self.doc else 0

    # -- layout ---------------------------------------------------------------------------------
    def _fit_zoom(self) -> float:
        """The zoom at which the widest page fills the width: beside the vertical scroll bar when
        the pages at the full width would need one. Decided from the area's size, not from whether
        the bar shows now: at the viewport's width the bar appearing and leaving resized the view
        back and forth without end (fit, overflow, bar, narrower, fits, no bar, wider, ...)."""
        sizes = [self.doc.page_size(i) for i in range(self.page_count)]
        widest = max((w for w, _h in sizes), default=612.0)
        area = self.contentsRect()
        zoom = (area.width() - 2 * GAP) / widest
        if sum(h for _w, h in sizes) * zoom + (len(sizes) + 1) * GAP > area.height():
            zoom = (area.width() - self.verticalScrollBar().sizeHint().width() - 2 * GAP) / widest
        return max(0.1, zoom)

    def _layout(self, keep_position: bool = True) -> None:
        """Page tops for the current zoom; keeps the reading position (page and place in it)."""
        anchor = self._position() if keep_position and self._tops else None
        if self.doc is not None and self.fit_width:
            self.zoom = self._fit_zoom()
        self._tops, y, width = [], float(GAP), 0.0
        for i in range(self.page_count):
            w, h = self.doc.page_size(i)
            self._tops.append(y)
            y += h * self.zoom + GAP
            width = max(width, w * self.zoom)
        self._height, self._width = y, width + 2 * GAP
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, int(self._height - self.viewport().height())))
        bar.setPageStep(self.viewport().height())
        hbar = self.horizontalScrollBar()
        hbar.setRange(0, max(0, int(self._width - self.viewport().width())))
        hbar.setPageStep(self.viewport().width())
        if anchor is not None:
            self._restore(anchor)

    def _position(self) -> tuple[int, float]:
        page = self.current_page()
        top = self._tops[page]
        height = self.doc.page_size(page)[1] * self.zoom
        return page, (self.verticalScrollBar().value() - top) / max(height, 1.0)

    def _restore(self, position: tuple[int, float]) -> None:
        page, fraction = position
        height = self.doc.page_size(page)[1] * self.zoom
        self.verticalScrollBar().setValue(round(self._tops[page] + fraction * height))

    def page_rect(self, i: int) -> QRectF:
        """Page `i` in viewport coordinates."""
        w, h = self.doc.page_size(i)
        left = (max(self._width, self.viewport().width()) - w * self.zoom) / 2
        return QRectF(left - self.horizontalScrollBar().value(),
                      self._tops[i] - self.verticalScrollBar().value(), w * self.zoom, h * self.zoom)

    def _frame(self, i: int) -> PageFrame:
        """Page `i`'s frame: known once it was rendered, else read now (waits for pdfium)."""
        frame = self._frames.get(i)
        if frame is None:
            frame = self._frames[i] = self.doc.page_frame(i)
        return frame

    def to_view(self, i: int, rect: tuple[float, float, float, float]) -> QRectF:
        """A rectangle in page `i`'s PDF points, in viewport coordinates."""
        page = self.page_rect(i)
        left, top, right, bottom = self._frame(i).rect_to_shown(rect)
        return QRectF(page.left() + left * self.zoom, page.top() + top * self.zoom,
                      (right - left) * self.zoom, (bottom - top) * self.zoom)

    def _to_page(self, pos: QPointF) -> tuple[int, float, float] | None:
        """The page under a viewport point and the point in PDF coordinates."""
        if not self._tops:
            return None
        y = pos.y() + self.verticalScrollBar().value()
        i = max(0, bisect.bisect_right(self._tops, y) - 1)
        rect = self.page_rect(i)
        if not rect.contains(pos):
            return None
        x, y = self._frame(i).to_pdf((pos.x() - rect.left()) / self.zoom, (pos.y() - rect.top()) / self.zoom)
        return i, x, y

    def visible_pages(self) -> range:
        if not self._tops:
            return range(0)
        top = self.verticalScrollBar().value()
        first = max(0, bisect.bisect_right(self._tops, top) - 1)
        last = max(first, bisect.bisect_right(self._tops, top + self.viewport().height()) - 1)
        return range(first, min(last, self.page_count - 1) + 1)

    def current_page(self) -> int:
        """The page at the top third of the view (what a reader is looking at)."""
        if not self._tops:
            return 0
        y = self.verticalScrollBar().value() + self.viewport().height() / 3
        return min(self.page_count - 1, max(0, bisect.bisect_right(self._tops, y) - 1))

    @property
    def render_scale(self) -> float:
        return self.zoom * self.devicePixelRatioF()

    # -- rendering ------------------------------------------------------------------------------
    def _request_pages(self) -> None:
        if self.doc is None:
            return
        visible = list(self.visible_pages())
        ahead = range(visible[-1] + 1, min(self.page_count, visible[-1] + 1 + PREFETCH)) if visible else []
        behind = [visible[0] - 1] if visible and visible[0] > 0 else []
        scale = self.render_scale
        key = scale_key(scale)
        wanted = [(i, scale) for i in [*visible, *ahead, *behind] if (i, key) not in self.cache]
        self.renderer.want(wanted)
        if self.matches:
            self._request_boxes([i for i in visible if self._has_matches(i)])

    def _has_matches(self, page: int) -> bool:
        n = bisect.bisect_left(self.matches, (page,))
        return n < len(self.matches) and self.matches[n][0] == page

    def _request_boxes(self, pages: list[int]) -> None:
        """Read these pages' character boxes on the render thread, then draw their matches."""
        for page in pages:
            if page in self._boxes or page in self._boxes_pending:
                continue
            self._boxes_pending.add(page)

            def done(boxes: object, error: str, page: int = page) -> None:
                self._boxes_pending.discard(page)
                if error:
                    return
                self._boxes[page] = boxes  # type: ignore[assignment]
                match = self.current_match()
                if self._match_unplaced and match is not None and match[0] == page:
                    self._match_unplaced = False
                    if self._position() == self._at_match:  # (not if the reader has moved since)
                        self._scroll_to_match()
                        self._at_match = self._position()
                self.viewport().update()

            self.renderer.submit(lambda doc, page=page: doc.char_boxes(page), done)

    def _page_ready(self, _generation: int, page: int, key: int, image, links, annots) -> None:
        image.setDevicePixelRatio(self.devicePixelRatioF())
        self.cache.put((page, key), image)
        if page not in self._frames:
            self._frames[page] = self.doc.page_frame(page)  # read by the render: no pdfium call
        self._links[page] = links
        self._annots[page] = annots
        if page in self.visible_pages():
            self.viewport().update(self.page_rect(page).toAlignedRect())

    def page_painted(self, page: int) -> bool:
        """Whether page `page` is shown rendered at the current zoom (tests, benchmarks)."""
        return (page, scale_key(self.render_scale)) in self.cache

    # -- painting -------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        painter = QPainter(self.viewport())
        palette = self.palette()
        painter.fillRect(self.viewport().rect(), palette.color(palette.ColorRole.Dark))
        if self.doc is None:
            return
        key = scale_key(self.render_scale)
        paper = QColor("#202124") if self.renderer.dark else QColor("white")
        for i in self.visible_pages():
            rect = self.page_rect(i)
            image = self.cache.get((i, key))
            if image is not None:
                # 1:1 at a whole pixel (the image's pixel ratio is the screen's): a plain copy. A
                # fractional offset or a smooth transform would filter every pixel (~100 ms a page).
                painter.drawImage(rect.topLeft().toPoint(), image)
            elif (stretched := self.cache.any_scale(i)) is not None:  # for the moment: fast, rough
                painter.drawImage(rect, stretched)
            else:
                painter.fillRect(rect, paper)
                painter.setPen(palette.color(palette.ColorRole.PlaceholderText))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{i + 1}")
            self._paint_marks(painter, i)
        painter.end()

    def _paint_marks(self, painter: QPainter, i: int) -> None:
        if i not in self._frames:  # not rendered yet: a blank sheet, nothing to place marks on
            return
        painter.setPen(Qt.PenStyle.NoPen)
        dark = self.renderer.dark
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply if not dark
                                   else QPainter.CompositionMode.CompositionMode_Screen)
        for h in self.highlights:
            if h.page == i:
                color = QColor(HIGHLIGHT_CSS.get(h.color, HIGHLIGHT_CSS["yellow"]))
                if dark:
                    color = color.darker(300)
                for quad in h.quads or []:
                    painter.fillRect(self.to_view(i, tuple(quad)), color)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
        first = bisect.bisect_left(self.matches, (i,))
        last = bisect.bisect_left(self.matches, (i + 1,))
        for n in range(first, last):
            color = QColor(255, 140, 0, 150) if n == self.match_index else QColor(255, 200, 0, 70)
            for rect in self._match_rects(n):
                painter.fillRect(self.to_view(i, rect), color)
        if i in self._selection_rects:
            color = self.palette().color(self.palette().ColorRole.Highlight)
            color.setAlpha(90)
            for rect in self._selection_rects[i][2]:
                painter.fillRect(self.to_view(i, rect), color)

    def _match_rects(self, n: int) -> list[Rect]:
        """Match `n`'s rectangles, once its page has been rendered (else none yet)."""
        page, start, length = self.matches[n]
        boxes = self._boxes.get(page)
        return line_rects(boxes, start, start + length) if boxes is not None else []

    def _page_boxes(self, page: int) -> np.ndarray:
        """A page's character boxes: from its rendering, else read now (waits for pdfium)."""
        if page not in self._boxes:
            self._boxes[page] = self.doc.char_boxes(page)
        return self._boxes[page]

    # -- scrolling and paging -------------------------------------------------------------------
    def _scrolled(self, _value: int) -> None:
        self.viewport().update()
        self._request_pages()
        self._report_page()

    def _report_page(self) -> None:
        page = self.current_page()
        if page != self._last_page:
            self._last_page = page
            self.page_changed.emit(page, self.page_count)

    def scroll_by(self, lines: int) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() + lines * bar.singleStep())

    def scroll_sideways(self, steps: int) -> None:
        """Left or right across a page zoomed wider than the view (Shift+arrows)."""
        bar = self.horizontalScrollBar()
        bar.setValue(bar.value() + steps * self.verticalScrollBar().singleStep())

    def go_to_page(self, i: int, y: float | None = None) -> None:
        """Show page `i` from its top, or with height `y` (PDF points, page space) near the top."""
        if not self._tops:
            return
        i = min(max(i, 0), self.page_count - 1)
        top = self._tops[i] - GAP
        if y is not None:
            frame = self._frame(i)
            top = self._tops[i] + frame.to_shown(frame.box[0], y)[1] * self.zoom - GAP
        self.verticalScrollBar().setValue(round(top))
        self._report_page()

    def place(self) -> tuple[int, float, float | None] | None:
        """Where the reader is: (page, how far down it as a share of its height, zoom or None
        for fit width); None without a document."""
        if self.doc is None or not self._tops:
            return None
        page, offset = self._position()
        return page, offset, None if self.fit_width else self.zoom

    def go_to_place(self, page: int, offset: float, zoom: float | None) -> None:
        """Back to a `place()` (a page past the end: the last page, from its top)."""
        if self.doc is None or not self._tops:
            return
        if zoom is not None:
            self.set_zoom(zoom)
        elif not self.fit_width:
            self.set_fit_width()
        if page >= self.page_count:
            page, offset = self.page_count - 1, 0.0
        self._restore((max(page, 0), offset))
        self._report_page()

    def jump_to_page(self, i: int, y: float | None = None) -> None:
        """`go_to_page`, remembering where the reader was: Back (Alt+Left) returns there."""
        if not self._tops:
            return
        here = self._position()
        self.go_to_page(i, y)
        self._left(here)

    def _left(self, here: tuple[int, float]) -> None:
        """A jump moved the view from `here`: Back returns there (a new jump drops Forward's places)."""
        if self._position() != here:
            self._back = [*self._back[-(HISTORY - 1):], here]
            self._forward.clear()
            self.history_changed.emit(True, False)

    def back(self) -> None:
        """To the place the last jump left (a link, an outline entry, go to page, a search match)."""
        self._step(self._back, self._forward,
                   "No earlier place: Back returns from a link, outline entry or search match")

    def forward(self) -> None:
        self._step(self._forward, self._back, "No later place: Forward undoes Back")

    def _step(self, source: list[tuple[int, float]], other: list[tuple[int, float]], nothing: str) -> None:
        if not source or not self._tops:
            self.message.emit(nothing)
            return
        other.append(self._position())
        page, fraction = source.pop()
        self._restore((min(page, self.page_count - 1), fraction))
        self._report_page()
        self.history_changed.emit(bool(self._back), bool(self._forward))

    def next_page(self) -> None:
        self.go_to_page(self.current_page() + 1)

    def previous_page(self) -> None:
        page = self.current_page()
        at_top = self.verticalScrollBar().value() <= self._tops[page] - GAP + 1 if self._tops else True
        self.go_to_page(page - 1 if at_top else page)

    def first_page(self) -> None:
        self.go_to_page(0)

    def last_page(self) -> None:
        self.go_to_page(self.page_count - 1)

    # -- zoom -----------------------------------------------------------------------------------
    def set_zoom(self, zoom: float) -> None:
        self.fit_width = False
        position = self._position() if self._tops else None
        # The horizontal place as a share of the laid-out width: the middle of the view stays put.
        hbar, seen = self.horizontalScrollBar(), self.viewport().width()
        middle = (hbar.value() + seen / 2) / max(self._width, seen, 1.0)
        self.zoom = min(max(zoom, ZOOMS[0]), ZOOMS[-1])
        self._layout(keep_position=False)
        if position is not None:
            self._restore(position)
            hbar.setValue(round(middle * max(self._width, seen) - seen / 2))
        self.viewport().update()
        self._request_pages()

    def zoom_in(self) -> None:
        self.set_zoom(next((z for z in ZOOMS if z > self.zoom + 1e-3), ZOOMS[-1]))

    def zoom_out(self) -> None:
        self.set_zoom(next((z for z in reversed(ZOOMS) if z < self.zoom - 1e-3), ZOOMS[0]))

    def set_fit_width(self) -> None:
        self.fit_width = True
        self._layout()
        self.viewport().update()
        self._request_pages()

    def resizeEvent(self, event) -> None:
        """Laid out again for the new size, the page's part in the view's middle staying there
        (a zoomed page opened before the window had its size showed its left edge)."""
        hbar, seen = self.horizontalScrollBar(), self._seen_width
        middle = (hbar.value() + seen / 2) / max(self._width, seen, 1.0) if seen and hbar.maximum() else 0.5
        super().resizeEvent(event)
        self._layout()
        self._seen_width = seen = self.viewport().width()
        hbar.setValue(round(middle * max(self._width, seen) - seen / 2))
        self._request_pages()

    def wheelEvent(self, event) -> None:
        """Ctrl+wheel zooms (as in browsers and PDF readers); the wheel alone scrolls."""
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y()
            if steps > 0:
                self.zoom_in()
            elif steps < 0:
                self.zoom_out()
            event.accept()
            return
        super().wheelEvent(event)

    def event(self, event) -> bool:
        # Moved to a screen with another pixel ratio: render for it (the old images show stretched).
        if event.type() == QEvent.Type.DevicePixelRatioChange:
            self.viewport().update()
            QTimer.singleShot(0, self._request_pages)
        return super().event(event)

    # -- search ---------------------------------------------------------------------------------
    def find(self, text: str, start_page: int | None = None) -> None:
        """Search every page (on the render thread); the first match from `start_page` (else the
        current page) is shown. A newer search supersedes one still running: its answer is dropped."""
        if self.doc is None:
            return
        if not self.doc_has_text():
            self.message.emit("This PDF has no text layer: there is no text to search or highlight")
            return
        start_page = self.current_page() if start_page is None else start_page
        self._searches += 1
        search = self._searches

        def done(hits: object, error: str) -> None:
            if search != self._searches:
                return  # the user typed on: a newer search is running or done
            if error:
                self.message.emit(error)
                return
            self.matches = list(hits)  # type: ignore[call-overload]
            if not self.matches:
                self.match_index = -1
                self.message.emit(f"“{text}” is not in this PDF")
                self.found.emit(-1, 0)
                self.viewport().update()
                return
            self.match_index = next((n for n, m in enumerate(self.matches) if m[0] >= start_page), 0)
            self._show_match()

        self.renderer.submit(lambda doc: doc.search(text), done)

    def clear_find(self) -> None:
        """No search: no matches drawn, and a search still running is dropped when it answers."""
        self._searches += 1
        self.matches, self.match_index = [], -1
        self.found.emit(-1, -1)
        self.viewport().update()

    def find_next(self, step: int = 1) -> None:
        if not self.matches:
            self.message.emit("Nothing searched yet: / searches the PDF")
            return
        self.match_index = (self.match_index + step) % len(self.matches)
        self._show_match()

    def _show_match(self) -> None:
        """Bring the current match into view: a jump (Back returns to where the reader was), unless
        the view is still where the last match put it (the next match, a longer text typed: Back
        goes to the place before them all, not through each)."""
        page, _start, _length = self.matches[self.match_index]
        here = self._position() if self._tops else None
        self._match_unplaced = not self._scroll_to_match()
        if self._match_unplaced:  # its page's boxes are not read yet: show the page, place it later
            self.go_to_page(page)
            self._request_boxes([page])
        if here is not None:
            if here != self._at_match:
                self._left(here)
            self._at_match = self._position()
        self.message.emit(f"Match {self.match_index + 1} of {len(self.matches)} (page {page + 1})")
        self.found.emit(self.match_index, len(self.matches))
        self.viewport().update()

    def _scroll_to_match(self) -> bool:
        """Bring the current match into view, if its page's boxes are known."""
        page = self.matches[self.match_index][0]
        rects = self._match_rects(self.match_index)
        if not rects:
            return False
        target = self.to_view(page, rects[0])
        if not self.viewport().rect().contains(target.toAlignedRect()):  # an inch below the top
            self.verticalScrollBar().setValue(round(self.verticalScrollBar().value() + target.top() - 72))
            hbar = self.horizontalScrollBar()
            if target.left() < 0 or target.right() > self.viewport().width():
                hbar.setValue(round(hbar.value() + target.left() - GAP))
            self._report_page()
        return True

    def current_match(self) -> tuple[int, int, int] | None:
        return self.matches[self.match_index] if 0 <= self.match_index < len(self.matches) else None

    def doc_has_text(self) -> bool:
        return self.doc is not None and self.doc.has_text_layer

    # -- selection and highlights ---------------------------------------------------------------
    def _char_at(self, pos: QPointF) -> tuple[int, int] | None:
        where = self._to_page(pos)
        if where is None:
            return None
        page, x, y = where
        k = char_index_at(self._page_boxes(page), x, y, tolerance=6 / self.zoom)
        return (page, k) if k is not None else None

    def _drag_hit(self, pos: QPointF) -> tuple[int, int] | None:
        """The character a drag has reached: the nearest one on the page under the point (or the
        page above a gap between pages), the last one of a page the point is below."""
        if not self._tops:
            return None
        y = pos.y() + self.verticalScrollBar().value()
        page = max(0, bisect.bisect_right(self._tops, y) - 1)
        boxes = self._page_boxes(page)
        if not len(boxes):
            return None
        rect = self.page_rect(page)
        if pos.y() > rect.bottom():
            return page, len(boxes) - 1
        u = min(max(pos.x(), rect.left()), rect.right()) - rect.left()
        v = min(max(pos.y(), rect.top()), rect.bottom()) - rect.top()
        x, y_pdf = self._frame(page).to_pdf(u / self.zoom, v / self.zoom)
        k = char_index_at(boxes, x, y_pdf, tolerance=float("inf"))
        return (page, k) if k is not None else None

    def _snap(self, a: tuple[int, int], b: tuple[int, int]) -> Selection:
        """The characters from `a` to `b` (page, index; inclusive, either order), grown to whole
        words at both ends."""
        (first_page, start), (last_page, last) = min(a, b), max(a, b)
        text = self.doc.page_text(first_page)
        while 0 < start < len(text) and _is_word(text[start - 1]) and _is_word(text[start]):
            start -= 1
        text = self.doc.page_text(last_page)
        end = last + 1
        while end < len(text) and _is_word(text[end - 1]) and _is_word(text[end]):
            end += 1
        return Selection(first_page, start, end, last_page)

    def _set_selection(self, selection: Selection | None) -> None:
        """Select, and place the selection's rectangles page by page (kept while a drag grows it)."""
        self.selection = selection
        rects: dict[int, tuple[int, int, list[Rect]]] = {}
        for page, start, end in self._selection_parts():
            known = self._selection_rects.get(page)
            if known is not None and known[:2] == (start, end):
                rects[page] = known
            else:
                rects[page] = (start, end, line_rects(self._page_boxes(page), start, end))
        self._selection_rects = rects
        self.viewport().update()

    def _selection_parts(self) -> list[tuple[int, int, int]]:
        if self.selection is None or self.doc is None:
            return []
        return [(page, start, end) for page, start, end in
                self.selection.parts(lambda p: len(self.doc.page_text(p))) if end > start]

    def selected_text(self) -> str:
        """The selection's text as a reader would paste it: lines as they are, pages on new lines."""
        texts = [self.doc.page_text(page)[start:end] for page, start, end in self._selection_parts()]
        return "\n".join(t.replace("\r\n", "\n").strip("\r\n") for t in texts)

    def copy_selection(self) -> None:
        if self.selection is None:
            self.message.emit("Nothing selected: drag over the text to select it")
            return
        text = self.selected_text()
        QGuiApplication.clipboard().setText(text)
        self.message.emit(f"Copied {len(text.split())} words")

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.doc is None:
            return super().mousePressEvent(event)
        self.setFocus()
        # A link is followed on release: a drag that starts on one (a citation, a URL in the text)
        # selects text like anywhere else.
        self._pressed_link = self._link_at(event.position())
        self._press_pos = event.position()
        self._anchor = self._char_at(event.position())
        if self.selection is not None:
            self._set_selection(None)
            self.selection_changed.emit()

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        if self._pressed_link is not None and event.buttons() & Qt.MouseButton.LeftButton:
            if (pos - self._press_pos).manhattanLength() < QApplication.startDragDistance():
                return  # still a click on the link
            self._pressed_link = None
        if self._anchor is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._drag_to(pos)
            outside = pos.y() < 0 or pos.y() > self.viewport().height()
            if outside and not self._drag_scroll.isActive():
                self._drag_scroll.start()
            elif not outside:
                self._drag_scroll.stop()
            return
        link = self._link_at(pos)
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if link else Qt.CursorShape.IBeamCursor)
        if link is not None and link != self._hovered_link:
            self.message.emit(self._link_text(link))  # where a click leads, once per link entered
        self._hovered_link = link
        tip = self._link_text(link) if link is not None else self._tooltip_at(pos)
        if tip:
            QToolTip.showText(event.globalPosition().toPoint(), tip, self)
        else:
            QToolTip.hideText()

    def _drag_to(self, pos: QPointF) -> None:
        self._drag_pos = pos
        hit = self._drag_hit(pos)
        if hit is not None and self._anchor is not None:
            selection = self._snap(self._anchor, hit)
            if selection != self.selection:
                self._set_selection(selection)

    def _drag_scroll_step(self) -> None:
        """While a drag is held beyond the top or bottom edge: scroll, faster the farther out."""
        pos = self._drag_pos
        if self._anchor is None or pos is None:
            self._drag_scroll.stop()
            return
        beyond = pos.y() if pos.y() < 0 else pos.y() - self.viewport().height()
        if beyond == 0:
            self._drag_scroll.stop()
            return
        step = max(-60, min(60, round(beyond / 2))) or (1 if beyond > 0 else -1)
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() + step)
        self._drag_to(pos)

    def mouseReleaseEvent(self, event) -> None:
        self._drag_scroll.stop()
        link, self._pressed_link = self._pressed_link, None
        if link is not None and event.button() == Qt.MouseButton.LeftButton:
            self._anchor = self._drag_pos = None
            self._follow(link)
            return
        if self._anchor is not None and self.selection is not None:
            self.selection_changed.emit()
        self._anchor = self._drag_pos = None
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        highlight = self._highlight_at(event.position())
        if highlight is not None:
            self.highlight_activated.emit(highlight.id)
            return
        hit = self._char_at(event.position())
        if hit is not None:
            self._set_selection(self._snap(hit, hit))
            self.selection_changed.emit()

    def _link_at(self, pos: QPointF) -> Link | None:
        where = self._to_page(pos)
        if where is None:
            return None
        page, x, y = where
        return next((link for link in self._links.get(page, [])
                     if link.rect[0] <= x <= link.rect[2] and link.rect[1] <= y <= link.rect[3]), None)

    @staticmethod
    def _link_text(link: Link) -> str:
        if link.page is not None:
            return f"Go to page {link.page + 1}"
        if link.uri and openable_url(link.uri) is not None:
            return f"Open {_one_line(link.uri)}"
        return f"A link to {_one_line(link.uri or '(nowhere)')} (not opened: only web and mail links)"

    def _follow(self, link: Link) -> None:
        if link.page is not None:
            self.jump_to_page(link.page, link.y)
            return
        url = openable_url(link.uri or "")
        if url is None:
            target = _one_line(link.uri or "(nowhere)")
            self.message.emit(f"Not opened: {target} (only http, https and mailto links open from a PDF)")
        elif QDesktopServices.openUrl(url):
            self.message.emit(f"Opened {_one_line(link.uri or '')}")
        else:
            self.message.emit(f"Could not open {_one_line(link.uri or '')}: no program for it")

    def _highlight_at(self, pos: QPointF) -> Highlight | None:
        """The highlight under the mouse: only the page under it is looked at (placing another
        page's highlights would read that page's frame from pdfium on every mouse move)."""
        where = self._to_page(pos)
        if where is None:
            return None
        x, y = where[1], where[2]
        for h in self.highlights:
            if h.page == where[0] and any(q[0] <= x <= q[2] and q[1] <= y <= q[3] for q in h.quads or []):
                return h
        return None

    def _tooltip_at(self, pos: QPointF) -> str:
        highlight = self._highlight_at(pos)
        if highlight is not None:
            return highlight.comment or "Double-click to comment this highlight"
        where = self._to_page(pos)
        if where is None:
            return ""
        page, x, y = where
        for a in self._annots.get(page, []):
            boxes = a.quads or [a.rect]
            if a.contents and any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes):
                return f"{a.kind.capitalize()} (in the PDF): {a.contents}"
        return ""

    def highlight_target(self) -> list[HighlightPart] | str:
        """The parts (one per page) of the selection, else of the current search match, to
        highlight; or a message saying why there is nothing to highlight."""
        if self.doc is None:
            return "No PDF is open"
        if not self.doc_has_text():
            return "This PDF has no text layer: there is no text to search or highlight"
        if self.selection is not None:
            spans = [(page, start, end, self._selection_rects[page][2])
                     for page, start, end in self._selection_parts()]
        elif self.current_match() is not None:
            page, start, length = self.current_match()
            spans = [(page, start, start + length, line_rects(self._page_boxes(page), start, start + length))]
        else:
            return "Select text with the mouse, or search (/) and highlight the match"
        parts: list[HighlightPart] = []
        for page, start, end, rects in spans:
            quote = " ".join(self.doc.page_text(page)[start:end].split())
            if quote and rects:
                parts.append((page, start, end, quote, [list(r) for r in rects]))
        return parts or "The selection holds no text"

    def clear_selection(self) -> None:
        self._set_selection(None)
