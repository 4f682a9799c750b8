"""View > Highlights: every highlight in the library, newest first, with its paper; opens the paper.
The list is read on the desk's reader thread (a library's highlights are a list like any other)."""

from __future__ import annotations

from paperdesk.core import Library
from paperdesk.core.annotations import Highlight
from paperdesk.core.texchars import tex_to_unicode
from paperdesk.gui.layout import column
from paperdesk.gui.qt import QDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, Qt, Signal
from paperdesk.gui.reader import swatch
from paperdesk.gui.reader_thread import ReaderThread

ID_ROLE = Qt.ItemDataRole.UserRole + 1


class HighlightsDialog(QDialog):
    paper_chosen = Signal(str)

    def __init__(self, reader: ReaderThread, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Highlights")
        self.reader = reader
        self.filter_field = QLineEdit(placeholderText="Filter by quote, comment or paper title…")
        self.filter_field.textChanged.connect(self.filter)
        self.list = QListWidget(wordWrap=True)
        self.list.itemActivated.connect(lambda item: self.paper_chosen.emit(item.data(ID_ROLE)))
        self.count_label = QLabel()
        column(self.filter_field, self.list, self.count_label, on=self)
        self.resize(640, 520)
        self.refresh()

    def refresh(self) -> None:
        """Ask the reader thread for every highlight and its paper's title; shown when they come."""
        self.count_label.setText("Reading highlights…")
        self.reader.submit("highlights", read_highlights, self._show)

    @property
    def loading(self) -> bool:
        return self.reader.pending("highlights")

    def _show(self, value: object, error: str) -> None:
        if error:
            self.count_label.setText(f"The highlights could not be read: {error}")
            return
        marks, titles = value  # type: ignore[misc]
        self.list.clear()
        for h in marks:
            comment = f"\n    💬 {h.comment}" if h.comment else ""
            title = tex_to_unicode(titles.get(h.paper_id, h.paper_id))
            where = f", {h.where()}" if h.where() else ""  # a PDF highlight's page
            item = QListWidgetItem(swatch(h.color),
                                   f"“{tex_to_unicode(h.quote)}”{comment}\n    — {title}{where}")
            item.setData(ID_ROLE, h.paper_id)
            item.setToolTip(f"{title}\n{h.created_at[:10]}")
            self.list.addItem(item)
        self.count_label.setText(f"{len(marks)} highlight{'s' if len(marks) != 1 else ''} "
                                 "(double-click or Enter opens the paper)")
        self.filter(self.filter_field.text())  # typed while they were read

    def filter(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(not all(w in item.text().lower() for w in words))

    def items(self) -> list[str]:
        items = (self.list.item(i) for i in range(self.list.count()))
        return [item.text() for item in items if not item.isHidden()]


def read_highlights(lib: Library) -> tuple[list[Highlight], dict[str, str]]:
    """Every highlight, newest first, and the titles of their papers (on the reader thread)."""
    marks = lib.highlights.of()
    return marks, {r["id"]: r["title"] for r in lib.rows(sorted({h.paper_id for h in marks}))}
