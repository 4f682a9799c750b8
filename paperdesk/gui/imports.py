"""Importing into the desk: File > Import, the sample digests (also the empty library's banner),
and files dropped on the window (digests are imported; one PDF dropped on a paper is its PDF)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from paperdesk.core import Library
from paperdesk.core.paths import sample_digests
from paperdesk.gui.arxiv_lookup import ArxivLookup
from paperdesk.gui.jobs import Job, JobRunner
from paperdesk.gui.layout import row, wrapped
from paperdesk.gui.pdf_commands import PdfCommands
from paperdesk.gui.qt import QFileDialog, QFrame, QPushButton, QWidget
from paperdesk.gui.selection import Selection
from paperdesk.gui.sidebar import Sidebar
from paperdesk.gui.theme import icon


class Imports:
    def __init__(self, parent: QWidget, jobs: JobRunner, selection: Selection, sidebar: Sidebar,
                 status: Callable[..., None], *, pdf: PdfCommands, arxiv_lookup: ArxivLookup):
        self.parent, self.jobs, self.selection, self.sidebar = parent, jobs, selection, sidebar
        self.status, self.pdf, self.arxiv_lookup = status, pdf, arxiv_lookup
        self.banner = QFrame()  # shown while the library is empty
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner_button = QPushButton(icon("import"), "Import sample digests")
        self.banner_button.clicked.connect(self.import_samples)
        label = wrapped("Your library is empty. Import the sample digests to look around, "
                        "or drop digest files here.")
        row((label, 1), self.banner_button, on=self.banner)

    def choose_import(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(
            self.parent, "Import digests", str(Path.home()), "Digests (*.txt *.md *.html);;All files (*)")
        if paths:
            self.import_files(paths)

    def import_samples(self) -> None:
        self.import_files(sample_digests())

    def import_files(self, paths: Sequence[str | Path]) -> Job | None:
        paths = [str(p) for p in paths]
        if not paths:
            return None
        self.banner_button.setEnabled(False)

        def work(lib: Library, progress, cancelled):
            return lib.import_paths(paths, progress=progress, cancelled=cancelled)

        label = f"Import {len(paths)} file{'s' if len(paths) != 1 else ''}"
        return self.jobs.run(label, work, on_success=self._done,
                             on_failure=lambda _msg: self.banner_button.setEnabled(True))

    def _done(self, report: object) -> None:
        summary = report.summary()  # type: ignore[attr-defined]
        if getattr(report, "cancelled", False):
            summary += " (cancelled)"
        self.status(summary, 0)
        self.arxiv_lookup.offer(sorted(report.changes.added))  # type: ignore[attr-defined]
        self.banner_button.setEnabled(True)
        self.update_banner()

    def update_banner(self) -> None:
        # An empty library, as the sidebar's last read (on the reader thread) counted it.
        self.banner.setVisible(self.sidebar.papers == 0 and not self.selection.model.rowCount())

    # -- drag and drop ------------------------------------------------------------------------
    @staticmethod
    def dropped_files(mime) -> list[str]:
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and Path(u.toLocalFile()).is_file()]

    def drop(self, event) -> None:
        """Files dropped on the window: digests are imported; one PDF goes to the paper under it."""
        files = self.dropped_files(event.mimeData())
        if not files:
            event.ignore()
            return
        event.acceptProposedAction()
        pdfs = [f for f in files if f.lower().endswith(".pdf")]
        if not pdfs:
            self.import_files(files)
        elif len(files) == 1:  # a PDF dropped on a paper is its PDF
            self.pdf.drop_pdf(pdfs[0], self._paper_at(event.position().toPoint()))
        else:
            self.status("Drop one PDF on one paper (a folder of PDFs: `paperdesk pdf import DIR`)")

    def _paper_at(self, point) -> str | None:
        """The paper of the list row under a point of the window, if any."""
        table = self.selection.table
        index = table.indexAt(table.viewport().mapFrom(self.parent, point))
        return self.selection.model.id_at(index.row()) if index.isValid() else None
