"""The desk's commands on the current paper: open its page, copy a link, write its note,
highlight the reader's selection and comment on a highlight, and follow a [[link]] to a paper."""

from __future__ import annotations

from collections.abc import Callable

from paperdesk.core import Library
from paperdesk.gui.caret import ReaderCaret
from paperdesk.gui.dialogs import Dialogs
from paperdesk.gui.jobs import JobRunner
from paperdesk.gui.pdf_commands import PdfCommands
from paperdesk.gui.qt import (
    QDesktopServices,
    QGuiApplication,
    QInputDialog,
    QLabel,
    QLineEdit,
    Qt,
    QUrl,
    QWidget,
)
from paperdesk.gui.reader import Reader
from paperdesk.gui.selection import Selection


class PaperCommands:
    def __init__(self, parent: QWidget, lib: Library, jobs: JobRunner, selection: Selection,
                 reader: Reader, status: Callable[[str], None], *, caret: ReaderCaret, pdf: PdfCommands,
                 dialogs: Dialogs, focus_list: Callable[[], None], show_in_all: Callable[[], None]):
        self.parent, self.lib, self.jobs, self.selection = parent, lib, jobs, selection
        self.reader, self.status, self.caret, self.pdf = reader, status, caret, pdf
        self.dialogs, self.focus_list, self.show_in_all = dialogs, focus_list, show_in_all

    def current_record(self) -> dict | None:
        pid = self.selection.current_id()
        return self.lib.get(pid) if pid else None

    def open_paper_page(self) -> None:
        from paperdesk.core.export.links import web_link

        record = self.current_record()
        if record is None:
            return
        url = QUrl(web_link(record))
        if url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)
            self.status(f"Opened {url.toString()}")

    def copy_link(self) -> None:
        from paperdesk.core.export import markdown_link

        record = self.current_record()
        if record is None:
            return
        link = markdown_link(record)
        QGuiApplication.clipboard().setText(link)
        self.status(f"Copied {link}")

    def focus_note(self) -> None:
        if self.reader.paper_id is not None:
            self.reader.notes.focus_editor()

    def highlight_selection(self, color: str = "yellow", comment: bool = False) -> None:
        """Highlight the page's selection (whole words); with `comment`, then ask for a comment."""
        if self.reader.showing_pdf:
            self.pdf.pdf_highlight(color)
            return
        where = self.reader.selection_offsets()
        if isinstance(where, str):
            self.status(where)
            return
        field, start, end = where
        pid = self.reader.paper_id
        assert pid is not None
        self.caret.stop()

        def done(result: object) -> None:
            cursor = self.reader.browser.textCursor()
            cursor.clearSelection()
            self.reader.browser.setTextCursor(cursor)
            if comment and isinstance(result, tuple):
                self.comment_highlight(result[0])  # (highlight id, changes)
                return
            self.focus_list()
            self.status("Highlighted. To comment from the keys: v, choose the words, c (or click "
                        "“comment…” under Highlights).")

        self.jobs.write("Highlight",
                        lambda lib: lib.highlights.add(pid, start, end, field=field, color=color), done)

    def comment_highlight(self, highlight_id: int) -> None:
        found = self.lib.highlights.get(highlight_id)
        if found is None:
            return
        quote = " ".join(found.quote.split())
        quote = quote if len(quote) <= 90 else quote[:89] + "…"
        dialog = QInputDialog(self.parent, windowTitle="Highlight comment",
                              labelText=f"Comment on “{quote}”:", textValue=found.comment or "")
        dialog.findChild(QLabel).setTextFormat(Qt.TextFormat.PlainText)  # the quote is not markup
        dialog.findChild(QLineEdit).setMinimumWidth(440)  # room for a sentence (and the whole title)
        dialog.textValueSelected.connect(lambda text: self.jobs.write(
            "Comment highlight", lambda lib: lib.highlights.update(highlight_id, comment=text)))
        self.dialogs.open(dialog)

    def open_paper(self, paper_id: str) -> None:
        """Show a paper (a [[link]], the Highlights view): in this view if listed, else in All."""
        if not self.lib.exists(paper_id):
            self.status(f"No paper {paper_id} in the library")
            return
        if self.selection.model.row_of(paper_id) is None:
            self.show_in_all()
        if self.selection.select_id(paper_id):
            self.selection.table.setFocus()
