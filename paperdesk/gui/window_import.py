"""Importing into the desk: File > Import, the sample digests, files dropped on the window; and
the status bar's job progress.

A mixin of `MainWindow`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from paperdesk.core import Library
from paperdesk.core.paths import sample_digests
from paperdesk.gui.jobs import Job
from paperdesk.gui.qt import QFileDialog


class ImportCommands:
    # -- import -------------------------------------------------------------------------------
    def choose_import(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(
            self, "Import digests", str(Path.home()), "Digests (*.txt *.md *.html);;All files (*)")
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

        return self.jobs.run(f"Import {len(paths)} file{'s' if len(paths) != 1 else ''}", work,
                             on_success=self._import_done,
                             on_failure=lambda msg: self.banner_button.setEnabled(True))

    def _import_done(self, report: object) -> None:
        summary = report.summary()  # type: ignore[attr-defined]
        if getattr(report, "cancelled", False):
            summary += " (cancelled)"
        self.last_import_summary = summary
        self.status(summary, 0)
        self.arxiv_lookup.offer(sorted(report.changes.added))  # type: ignore[attr-defined]
        self.banner_button.setEnabled(True)
        self._update_banner()

    def _update_banner(self) -> None:
        # An empty library, as the sidebar's last read (on the reader thread) counted it.
        self.banner.setVisible(self.sidebar.papers == 0 and not self.model.rowCount())

    def _job_started(self, job: Job) -> None:
        self.show_progress(job, 0, 0)

    def _job_progress(self, job: Job, done: int, total: int, what: str) -> None:
        self.show_progress(job, done, max(total, 1), what)

    def _job_idle(self) -> None:
        if (self.feed_scheduler is None or not self.feed_scheduler.running) and \
                not self.arxiv_lookup.running:  # (they show their own)
            self.hide_progress()

    def show_progress(self, job: Job, done: int, total: int, what: str = "") -> None:
        """The status bar's progress for a long job (an import, a feed refresh); Cancel shown."""
        self.progress.setRange(0, total)  # 0, 0: busy, no count yet
        self.progress.setValue(done)
        self.progress.setFormat(f"{done}/{total} %p%" if total else job.label)
        self.progress.show()
        self.cancel_button.show()
        self.command_actions["cancel-job"].setEnabled(True)
        if what:
            self._progress_message = f"{job.label}: {what}"
            self.statusBar().showMessage(self._progress_message)

    def hide_progress(self) -> None:
        if self.statusBar().currentMessage() == self._progress_message:  # not a result's summary
            self.statusBar().clearMessage()
        self.progress.hide()
        self.cancel_button.hide()
        self.command_actions["cancel-job"].setEnabled(False)

    def cancel_background(self) -> None:
        """Cancel: the long jobs and a feed refresh; the user's own writes still happen."""
        self.jobs.cancel_all()
        if self.feed_scheduler is not None:
            self.feed_scheduler.cancel()
        self.arxiv_lookup.cancel()

    # -- drag and drop ------------------------------------------------------------------------
    @staticmethod
    def _dropped_files(mime) -> list[str]:
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and Path(u.toLocalFile()).is_file()]

    def dragEnterEvent(self, event) -> None:
        if self._dropped_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        files = self._dropped_files(event.mimeData())
        pdfs = [f for f in files if f.lower().endswith(".pdf")]
        if files:
            event.acceptProposedAction()
            if not pdfs:
                self.import_files(files)
            elif len(files) == 1:  # a PDF dropped on a paper is its PDF
                self.drop_pdf(pdfs[0], self._paper_at(event.position().toPoint()))
            else:
                self.status("Drop one PDF on one paper (a folder of PDFs: `paperdesk pdf import DIR`)")
        else:
            event.ignore()

    def _paper_at(self, point) -> str | None:
        """The paper of the list row under a point of the window, if any."""
        viewport = self.table.viewport()
        index = self.table.indexAt(viewport.mapFrom(self, point))
        return self.model.id_at(index.row()) if index.isValid() else None
