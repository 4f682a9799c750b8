"""A QTextBrowser that loads nothing remote and reports link clicks instead of following them."""

from __future__ import annotations

from paperdesk.gui.qt import QDesktopServices, QTextBrowser, QTextDocument, QUrl, Signal

STYLE = """
h2 { font-size: 15pt; margin-bottom: 4px; }
a { text-decoration: none; }
.meta { color: palette(placeholder-text); }
.tag { font-weight: bold; }
.abstract { line-height: 130%; }
.snippet { background-color: palette(alternate-base); }
.provenance { color: palette(placeholder-text); }
.section { margin-top: 10px; margin-bottom: 2px; }
.broken-link { color: palette(placeholder-text); }
.hl-yellow { background-color: #fde68a; color: #1f2328; }
.hl-green { background-color: #bbf7d0; color: #1f2328; }
.hl-blue { background-color: #bfdbfe; color: #1f2328; }
.hl-pink { background-color: #fbcfe8; color: #1f2328; }
"""


class SafeBrowser(QTextBrowser):
    paper_link = Signal(str)  # paperdesk://paper/<id>
    highlight_link = Signal(int)  # paperdesk://highlight/<id>

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.document().setDefaultStyleSheet(STYLE)
        self.anchorClicked.connect(self._open_link)

    def loadResource(self, kind: int, url: QUrl | str) -> object:
        """No remote loads ever: images, style sheets, anything not local resolve to nothing."""
        url = QUrl(url) if isinstance(url, str) else url
        if url.scheme() in ("", "qrc") and kind != QTextDocument.ResourceType.UnknownResource:
            return super().loadResource(kind, url)
        return None

    def _open_link(self, url: QUrl) -> None:
        scheme = url.scheme()
        if scheme in ("http", "https"):
            QDesktopServices.openUrl(url)
        elif scheme == "paperdesk":
            kind, _, value = (url.host() + url.path()).partition("/")
            if kind == "paper" and value:
                self.paper_link.emit(value)
            elif kind == "highlight" and value.isdigit():
                self.highlight_link.emit(int(value))
