"""The reader pane: sanitised HTML in a QTextBrowser that loads nothing remote and opens links on click."""

from __future__ import annotations

from paperdesk.gui.qt import QDesktopServices, QTextBrowser, QTextDocument, QUrl
from paperdesk.gui.render import paper_html

STYLE = """
h2 { font-size: 15pt; margin-bottom: 4px; }
a { text-decoration: none; }
.meta { color: palette(placeholder-text); }
.tag { font-weight: bold; }
.abstract { line-height: 130%; }
.snippet { background-color: palette(alternate-base); }
.provenance { color: palette(placeholder-text); }
"""

EMPTY_HTML = "<p style='color: gray'>Select a paper to read it here.</p>"


class Reader(QTextBrowser):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._open_link)
        self.document().setDefaultStyleSheet(STYLE)
        self.paper_id: str | None = None
        self.opened_urls: list[str] = []  # what clicks opened (tests read it)
        self.show_message(EMPTY_HTML)

    def show_message(self, markup: str) -> None:
        self.paper_id = None
        self.setHtml(markup)

    def show_record(self, record: dict | None, snippet: str | None = None) -> None:
        if record is None:
            self.show_message(EMPTY_HTML)
            return
        self.paper_id = record["id"]
        self.setHtml(paper_html(record, snippet))

    def loadResource(self, kind: int, url: QUrl | str) -> object:
        """No remote loads ever: images, style sheets, anything not local resolve to nothing."""
        url = QUrl(url) if isinstance(url, str) else url
        if url.scheme() in ("", "qrc") and kind != QTextDocument.ResourceType.UnknownResource:
            return super().loadResource(kind, url)
        return None

    def _open_link(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https"):
            self.opened_urls.append(url.toString())
            QDesktopServices.openUrl(url)
