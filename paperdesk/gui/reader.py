"""The reader pane: the paper (core `reader_html`, sanitised) or its PDF (`PdfPane`) above its note
editor, highlight colours. A paper with a PDF shows the PDF unless the user toggled to the abstract.

The page is a `SafeBrowser`: nothing remote loads, links are reported. A selection in the page is
turned back into offsets of the RAW abstract (or title) for `add_highlight`: the shown text is known
(`reader_html.display_map`), so the selected quote is located in it near the selection's position
and mapped to raw offsets. A selection covers whole words (core `word_bounds`): a mouse selection snaps to
them when the button is released, and so does any selection that is highlighted.
"""

from __future__ import annotations

from paperdesk.core import reader_html
from paperdesk.core.annotations import HIGHLIGHT_COLORS, locate
from paperdesk.core.library import Library
from paperdesk.core.word_bounds import snap_to_words
from paperdesk.gui.layout import column, row, tool_button, wrapped
from paperdesk.gui.note_panel import NotePanel, Write
from paperdesk.gui.pdf_pane import PdfPane
from paperdesk.gui.qt import (
    QColor,
    QIcon,
    QLabel,
    QPixmap,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    Qt,
    QTextCursor,
    QWidget,
    Signal,
)
from paperdesk.gui.safe_browser import SafeBrowser

EMPTY_HTML = "<p style='color: gray'>Select a paper to read it here.</p>"


class ReaderPage(SafeBrowser):
    """The paper's page: a mouse selection snaps to whole words when the button is released."""

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        self.snap_selection()

    def snap_selection(self) -> None:
        cursor = self.textCursor()
        if not cursor.hasSelection():
            return
        start, end = snap_to_words(self.document().toPlainText(), cursor.selectionStart(),
                                   cursor.selectionEnd())
        backwards = cursor.position() < cursor.anchor()
        cursor.setPosition(end if backwards else start)
        cursor.setPosition(start if backwards else end, QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)


def swatch(color: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(reader_html.HIGHLIGHT_CSS[color]))
    return QIcon(pixmap)


class Reader(QWidget):
    highlight_requested = Signal(str)  # colour

    def __init__(self, lib: Library, write: Write, parent=None):
        super().__init__(parent)
        self.lib = lib
        self.browser = ReaderPage()
        self.browser.keeps_navigation_keys = True  # arrows scroll the page, letters are commands
        self.notes = NotePanel(lib, write)
        self.record: dict | None = None
        self.pdf = PdfPane()
        self.prefer_pdf = True  # show a paper's PDF rather than its abstract (toggled with a key)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.browser)
        self.stack.addWidget(self.pdf)

        self.colour_buttons = {color: tool_button(
            f"Highlight the selected text in {color}{' (h)' if color == 'yellow' else ''}",
            lambda c=color: self.highlight_requested.emit(c), icon=swatch(color))
            for color in HIGHLIGHT_COLORS}
        # Why the paper is where it is in the For you order (gui/for_you.py): a line of its own,
        # wrapped, never widening the pane; shown once the library has been ranked.
        self.for_you = wrapped(dim=True)
        self.for_you.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.for_you.setContentsMargins(8, 0, 8, 2)
        self.for_you.hide()

        self.splitter = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.notes)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        bar = row(QLabel("Highlight:"), *self.colour_buttons.values(), 1, margins=(6, 2, 6, 2))
        column(bar, self.for_you, (self.splitter, 1), on=self, margins=(0, 0, 0, 0), spacing=0)
        self.browser.setHtml(EMPTY_HTML)

    @property
    def paper_id(self) -> str | None:
        return self.record["id"] if self.record else None

    def show_record(self, record: dict | None, snippet: str | None = None) -> None:
        """Show a paper (None: nothing). The previous paper's pending note is flushed first."""
        previous = self.paper_id
        if record is None or record["id"] != previous:
            self.notes.flush()
        self.record = record
        if record is None:
            self.browser.setHtml(EMPTY_HTML)
            self.notes.show_paper(None, "")
            self._show_pdf(None)
            return
        scroll = self.browser.verticalScrollBar().value() if record["id"] == previous else 0
        self.browser.setHtml(reader_html.paper_html(self.lib, record, snippet))
        self.browser.verticalScrollBar().setValue(scroll)
        if record["id"] != previous:
            self.notes.show_paper(record["id"], record.get("note") or "")
        else:
            self.notes.library_changed(record.get("note") or "")
        self._show_pdf(record["id"])

    # -- the PDF ----------------------------------------------------------------------------------
    @property
    def showing_pdf(self) -> bool:
        return self.stack.currentWidget() is self.pdf

    def _show_pdf(self, paper_id: str | None) -> None:
        """The paper's PDF if it has one and the user prefers it, else the abstract. The PDF stays
        open (and keeps its place) while the abstract is shown."""
        path = self.lib.pdf_path(paper_id) if paper_id else None
        if path is None:
            if self.pdf.paper_id is not None:
                self.pdf.close_pdf()
            self.stack.setCurrentWidget(self.browser)
            return
        if not self.pdf.shows(paper_id, path):
            again = self.pdf.paper_id == paper_id and self.pdf.view.doc is not None
            page = self.pdf.view.current_page()
            if self.pdf.open_pdf(paper_id, path) and again:  # a newer file: stay on the page
                self.pdf.view.go_to_page(page)
        self.pdf.set_highlights(self.lib.highlights.of(paper_id))
        self.stack.setCurrentWidget(self.pdf if self.prefer_pdf else self.browser)

    def toggle_pdf(self) -> str:
        """Switch between the PDF and the abstract; says what is shown now."""
        if self.record is None:
            return "Select a paper first"
        if self.pdf.paper_id != self.record["id"]:
            self.prefer_pdf = True
            return "This paper has no PDF yet"
        self.prefer_pdf = not self.showing_pdf
        self.stack.setCurrentWidget(self.pdf if self.prefer_pdf else self.browser)
        return "Showing the PDF" if self.prefer_pdf else "Showing the abstract"

    def highlightable_regions(self) -> list[tuple[str, int, int]]:
        """(field, start, end) in the page's plain text of the title and the abstract."""
        if self.record is None:
            return []
        page = self.browser.document().toPlainText()
        title_end = page.find("\n")
        regions = [("title", 0, title_end if title_end >= 0 else len(page))]
        shown, _starts = reader_html.display_map(self.record.get("abstract") or "")
        spans = reader_html.paragraphs(shown)
        if spans and title_end >= 0:
            first = " ".join(shown[spans[0][0]:spans[0][1]].split())
            last = " ".join(shown[spans[-1][0]:spans[-1][1]].split())
            region = page.find(first, title_end)
            region_end = page.find(last, region) + len(last) if region >= 0 else -1
            if region >= 0 and region_end >= region:
                regions.append(("abstract", region, region_end))
        return regions

    def selection_offsets(self) -> tuple[str, int, int] | str:
        """(field, raw start, raw end) of the selected page text snapped to whole words, or a message
        why not."""
        cursor = self.browser.textCursor()
        if self.record is None or not cursor.hasSelection():
            return "Select some text of the abstract or title first (v selects words with the keys)"
        page = self.browser.document().toPlainText()
        start, end = snap_to_words(page, cursor.selectionStart(), cursor.selectionEnd())
        quote = page[start:end].replace("\n", " ").replace("\u00a0", " ")
        if not quote.strip():
            return "Select some text of the abstract or title first (v selects words with the keys)"
        regions = self.highlightable_regions()
        title_end = regions[0][2]
        if start < title_end:
            if end > title_end:
                return "Highlight the title and the abstract separately"
            field, region = "title", 0
        else:
            if not self.record.get("abstract"):
                return "This paper has no abstract to highlight"
            found = [(r_start, r_end) for f, r_start, r_end in regions if f == "abstract"]
            if not found or start < found[0][0] or end > found[0][1]:
                return "Only the abstract and the title can be highlighted"
            field, region = "abstract", found[0][0]
        raw = self.record.get(field) or ""
        shown, starts = reader_html.display_map(raw)
        span = locate(shown, quote.strip(), max(0, start - region))
        if span is None:
            return "Could not find the selected text in the paper"
        raw_start, raw_end = reader_html.raw_span(starts, *span)
        return field, raw_start, raw_end
