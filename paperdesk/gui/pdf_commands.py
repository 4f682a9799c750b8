"""The desk's commands on the reader's PDF: fetch it, attach a file (a command or a drop; an
encrypted one asks its password before anything is stored), toggle PDF/abstract, the PDF alone in
the window, go to a page, highlight (the selection or the current match; stored by
`lib.highlights.add_pdf_parts`, undoable); and on the paper's arXiv id: set it by hand, look ids up
(`gui/arxiv_lookup.py`). The background fetch of starred papers' PDFs is `gui/pdf_fetch.py`.
Every change is one undoable operation written through `JobRunner.write`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from paperdesk.core import Library
from paperdesk.core.pdf import reading_place
from paperdesk.core.pdf.reading_place import ReadingPlace
from paperdesk.gui.arxiv_lookup import ArxivLookup
from paperdesk.gui.dialogs import Dialogs
from paperdesk.gui.jobs import JobRunner
from paperdesk.gui.keys import KeyDispatcher
from paperdesk.gui.pdf_fetch import PdfFetcher
from paperdesk.gui.pdf_view import PdfView
from paperdesk.gui.qt import QApplication, QFileDialog, QInputDialog, QLineEdit, QWidget
from paperdesk.gui.reader import Reader
from paperdesk.gui.reader_thread import ReaderThread
from paperdesk.gui.selection import Selection


class PdfCommands:
    def __init__(self, parent: QWidget, lib: Library, jobs: JobRunner, selection: Selection,
                 reader: Reader, keys: KeyDispatcher, status: Callable[..., None], dialogs: Dialogs, *,
                 reads: ReaderThread, fetcher: PdfFetcher, arxiv_lookup: ArxivLookup,
                 show_paper: Callable[[str], None], desk_parts: tuple[QWidget, ...]):
        self.parent, self.lib, self.jobs, self.selection = parent, lib, jobs, selection
        self.reader, self.keys, self.status, self.dialogs = reader, keys, status, dialogs
        self.fetcher, self.arxiv_lookup, self.show_paper = fetcher, arxiv_lookup, show_paper
        self.desk_parts = desk_parts  # hidden while the PDF has the whole window
        pane = reader.pdf
        keys.watch(pane.view, "pdf")
        keys.watch(pane.find_field, "insert")
        pane.status.connect(status)
        pane.unlocked.connect(self.keep_pdf_decrypted)
        # Where each PDF was left: what was written this session, else the library's, read once on
        # the reader thread (the GUI thread runs no queries) as the window opens, before its first
        # list: it is there before a PDF is shown (else it moves the PDF shown meanwhile, if unmoved).
        self._places: dict[str, ReadingPlace | None] = {}
        self._stored: dict[str, ReadingPlace] | None = None  # None: not read yet
        self._waiting: str | None = None  # the paper whose PDF was shown before they came
        reads.submit("reading-places", reading_place.load_all, self._places_read)
        pane.opened.connect(self._restore_place)
        pane.left.connect(self._keep_place)

    def fetch_pdf(self) -> None:
        """The current paper's PDF: shown if it is here, else fetched (then shown when it arrives)."""
        pid = self.selection.current_id()
        if pid is None:
            return
        self.reader.prefer_pdf = True
        if self.lib.pdf_path(pid) is not None:
            self.show_paper(pid)
            self.pdf_view.setFocus()
            return
        problems = self.fetcher.fetch([pid])
        self.status(problems[0] if problems else "Fetching the PDF…", 8000)

    @property
    def pdf_view(self) -> PdfView:
        return self.reader.pdf.view

    def toggle_pdf(self) -> None:
        """From the list: show the PDF and move into it. From the PDF: the abstract, back to the list."""
        in_pdf = self.keys.mode_of(QApplication.focusWidget()) == "pdf"
        if self.reader.showing_pdf and self.reader.pdf.ask_password():
            return
        if self.reader.showing_pdf and not in_pdf:
            self.pdf_view.setFocus()
            return
        self.status(self.reader.toggle_pdf(), 3000)
        if self.reader.showing_pdf:
            self.pdf_view.setFocus()
        else:
            if self.pdf_is_full_window():
                self.pdf_full_window()
            self.selection.table.setFocus()

    # -- where a PDF was left ----------------------------------------------------------------------
    def _place_of(self, pid: str) -> ReadingPlace | None:
        return self._places[pid] if pid in self._places else (self._stored or {}).get(pid)

    def _places_read(self, places: object, _error: str) -> None:
        """The library's places have come (a failed read: none, the PDFs open at their start)."""
        self._stored = places if isinstance(places, dict) else {}
        pid, self._waiting = self._waiting, None
        where = self.pdf_view.place()
        if pid is not None and pid == self.reader.pdf.paper_id and where is not None and \
                ReadingPlace(where[0], where[1], self.pdf_view.page_count, where[2]).at_start:
            self._restore_place(pid)  # shown before they came, and not moved since

    def _restore_place(self, pid: str) -> None:
        """A paper's PDF is shown: at the place it was left (the page clamped if the file changed)."""
        if self._stored is None and pid not in self._places:
            self._waiting = pid  # at its start until the library's places come
        place = self._place_of(pid)
        if place is None:  # at its start; the zoom is the paper's too: one never zoomed fits the width
            if not self.pdf_view.fit_width:
                self.pdf_view.set_fit_width()
            return
        place = place.within(self.pdf_view.page_count)
        self.pdf_view.go_to_place(place.page, place.offset, place.zoom)

    def _keep_place(self, pid: str, where: tuple[int, float, float | None]) -> None:
        """A PDF is left: its place is written (on the writer) if it moved since it was shown."""
        page, offset, zoom = where
        place = ReadingPlace(page, round(offset, 4), self.pdf_view.page_count, zoom)
        known = self._place_of(pid)
        if place == known or (known is None and place.at_start):
            return
        self._places[pid] = place
        self.jobs.write("Reading place", lambda lib: reading_place.store(lib, pid, place))

    def save_reading_place(self) -> None:
        """The window closes: keep where the PDF shown was left (the writer runs it before it stops)."""
        pane = self.reader.pdf
        where = self.pdf_view.place()
        if pane.paper_id is not None and where is not None:
            self._keep_place(pane.paper_id, where)

    def pdf_is_full_window(self) -> bool:
        return not self.desk_parts[0].isVisible() and self.reader.showing_pdf

    def pdf_full_window(self) -> None:
        """The reader alone in the window (the list and sidebar hidden), or the whole desk again."""
        full = self.pdf_is_full_window()
        if not full and not self.reader.showing_pdf:
            self.status("This paper's PDF is not shown (p shows it)")
            return
        for widget in self.desk_parts:
            widget.setVisible(full)
        self.reader.notes.setVisible(full)
        if not full:
            self.pdf_view.setFocus()

    def pdf_go_to_page(self) -> None:
        view = self.pdf_view
        if view.doc is None:
            return
        dialog = QInputDialog(self.parent, windowTitle="Go to page", labelText=f"Page (1–{view.page_count}):",
                              inputMode=QInputDialog.InputMode.IntInput)
        dialog.setIntRange(1, view.page_count)
        dialog.setIntValue(view.current_page() + 1)
        dialog.intValueSelected.connect(lambda n: (view.jump_to_page(n - 1), view.setFocus()))
        self.dialogs.open(dialog)  # open(), not exec(): the event loop goes on

    def pdf_highlight(self, color: str = "yellow") -> None:
        view = self.pdf_view
        target = view.highlight_target()
        if isinstance(target, str):
            self.status(target)
            return
        pid = self.reader.pdf.paper_id
        pages = sorted({part[0] + 1 for part in target})  # one part per page of the selection
        where = f"page {pages[0]}" if len(pages) == 1 else f"pages {pages[0]}–{pages[-1]}"

        def done(_result: object) -> None:
            view.clear_selection()
            self.status(f"Highlighted on {where}. Double-click it to add a comment.")

        self.jobs.write("Highlight", lambda lib: lib.highlights.add_pdf_parts(pid, target, color=color), done)

    # -- attach a local PDF ---------------------------------------------------------------------
    def choose_pdf_to_attach(self) -> None:
        pid = self.selection.current_id()
        if pid is None:
            return
        path, _filter = QFileDialog.getOpenFileName(self.parent, "Attach a PDF", str(Path.home()),
                                                    "PDF files (*.pdf);;All files (*)")
        if path:
            self.attach_pdf(pid, path)

    def attach_pdf(self, pid: str, path: str, password: str | None = None) -> None:
        """Keep a local PDF as the paper's PDF (undoable). An encrypted one asks its password
        first (a dialog that does not block the event loop); Cancel leaves everything as it was."""
        from paperdesk.core.pdf import files
        from paperdesk.core.pdf import settings as pdf_settings

        name = Path(path).name

        def attach(lib):  # a refusal is a result, not a failure: it may ask the password
            return files.attach(lib, pid, Path(path), password=password,
                                max_bytes=pdf_settings.load(lib).max_pdf_bytes)[0]

        def done(result: object) -> None:
            if isinstance(result, files.PdfNeedsPassword):
                self._ask_attach_password(pid, path, wrong=result.wrong_password)
            elif isinstance(result, files.PdfRejected):
                self.status(f"{name}: {result}; nothing changed")
            else:
                pages = getattr(result, "pages", None) or "?"
                self.status(f"Attached {name} ({pages} page{'' if pages == 1 else 's'}). Undo with u.")
                if self.selection.current_id() == pid:
                    self.reader.prefer_pdf = True
                    self.show_paper(pid)

        self.jobs.write("Attach PDF", attach, done, refused=files.PdfRejected)

    def _ask_attach_password(self, pid: str, path: str, *, wrong: bool) -> None:
        password = QLineEdit.EchoMode.Password
        dialog = QInputDialog(self.parent, windowTitle="Encrypted PDF", textEchoMode=password,
                              labelText=("Wrong password. " if wrong else "") + f"{Path(path).name} is "
                              "encrypted. Its password (the library keeps a copy without it):")
        dialog.textValueSelected.connect(lambda text: self.attach_pdf(pid, path, text))
        dialog.rejected.connect(lambda: self.status(f"{Path(path).name}: not attached; nothing changed"))
        self.dialogs.open(dialog)

    def keep_pdf_decrypted(self, pid: str, password: str) -> None:
        """The password that opened a fetched encrypted PDF: the library keeps its decrypted copy
        instead (undoable), so its text is extracted and indexed and it never asks again."""
        from paperdesk.core.pdf import files

        def done(result: object) -> None:
            if isinstance(result, files.PdfRejected):
                self.status(f"The PDF stays encrypted ({result})")
            else:
                self.status("The PDF is kept without its password: its text becomes searchable. Undo with u.")

        self.jobs.write("Decrypt PDF", lambda lib: files.decrypt_kept(lib, pid, password)[0], done,
                        refused=files.PdfRejected)

    def drop_pdf(self, path: str, paper_id: str | None) -> None:
        """A PDF dropped on the window: the paper under it (or the current one) gets it."""
        pid = paper_id or self.selection.current_id()
        if pid is None:
            self.status("Drop the PDF on a paper of the list")
            return
        self.attach_pdf(pid, path)

    # -- arXiv ids --------------------------------------------------------------------------------
    def set_arxiv_id(self) -> None:
        """Set or correct the paper's arXiv id by hand (empty clears it); undoable, and the
        look-up never overwrites it."""
        pid = self.selection.current_id()
        if pid is None:
            return
        record = self.lib.get(pid)
        dialog = QInputDialog(self.parent, windowTitle="arXiv id", textValue=f"{record['arxiv_id']}"
                              f"{record['arxiv_version'] or ''}" if record and record["arxiv_id"] else "",
                              labelText="The paper's arXiv id or its arxiv.org address (empty clears it):")
        dialog.textValueSelected.connect(lambda text: self.store_arxiv_id(pid, text))
        self.dialogs.open(dialog)

    def store_arxiv_id(self, pid: str, text: str) -> None:
        from paperdesk.core.pdf.arxiv import parse_arxiv_id, set_arxiv_id

        if text.strip():
            try:
                parse_arxiv_id(text)  # a bad id is one line here, before anything is queued
            except ValueError as exc:
                self.status(f"{exc}; nothing changed")
                return

        def done(_changes: object) -> None:
            record = self.lib.get(pid)
            if record and record["arxiv_id"]:
                version = record["arxiv_version"] or ""
                self.status(f"arXiv id set to {record['arxiv_id']}{version}. Undo with u.")
            else:
                self.status("arXiv id cleared. Undo with u.")

        self.jobs.write("Set arXiv id", lambda lib: set_arxiv_id(lib, pid, text), done)

    def look_up_arxiv_ids(self) -> None:
        """Every paper still without an arXiv id, by exact title (a background job; Cancel stops it)."""
        self.arxiv_lookup.start(None)
