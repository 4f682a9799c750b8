"""File > Export: Markdown into a folder (one file per paper, or one reading list) or a BibTeX file.

The papers are the whole current list (view + search), the selection or the marked papers. A dry
run previews what would change; the export itself runs as a job on the writer thread (its own
library connection) with a progress bar and cancel, and ends with a summary: written, unchanged,
and files left alone with the reason (the user's edits are never overwritten: see core/export).
`ExportCommand` opens it (the `export` command).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from paperdesk.core.export import ExportError, export_bibtex, export_markdown
from paperdesk.core.export.report import BibtexReport, ExportReport
from paperdesk.core.library import Library
from paperdesk.gui.jobs import Job, JobRunner
from paperdesk.gui.layout import button, column, row
from paperdesk.gui.qt import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QWidget,
    Signal,
)
from paperdesk.gui.selection import Selection

SCOPES = (("view", "Whole list"), ("selection", "Selection"), ("marked", "Marked"))
MAX_LISTED = 200  # lines of per-file detail in the summary


def describe(report: ExportReport | BibtexReport) -> str:
    """The summary line, then every file left alone with its reason, then what changed (bounded)."""
    if isinstance(report, BibtexReport):
        return "\n".join([report.summary(), *report.warnings])
    lines = [report.summary()]
    lines += [f"left alone: {item.file}: {item.reason}" for item in report.skipped]
    if report.unlisted("skipped"):  # the report keeps the first LISTED of each kind
        lines.append(f"… and {report.unlisted('skipped')} more left alone")
    lines += [f"warning: {w}" for w in report.warnings]
    if report.unlisted("warnings"):
        lines.append(f"… and {report.unlisted('warnings')} more warnings")
    kind = "would_change" if report.dry_run else "written"
    lines += [item.describe() for item in getattr(report, kind)[:MAX_LISTED]]
    if report.count(kind) > MAX_LISTED:
        lines.append(f"… and {report.count(kind) - MAX_LISTED} more")
    return "\n".join(lines)


def _field(placeholder: str) -> QLineEdit:
    return QLineEdit(placeholderText=placeholder)


def _path_row(label: str, edit: QLineEdit, choose: Callable[[], str] | None = None) -> QHBoxLayout:
    """A caption, the field and (with `choose`: a file dialog giving a path or "") Browse…."""
    def browse() -> None:
        if choose is not None and (path := choose()):
            edit.setText(path)

    return row(QLabel(label, minimumWidth=90), (edit, 1), *([button("Browse…", browse)] if choose else []))


class ExportDialog(QDialog):
    finished_export = Signal(object)  # the report, or an error message (str)

    def __init__(self, selection: Selection, jobs: JobRunner, status: Callable[..., None], parent: QWidget):
        super().__init__(parent)
        self.selection, self.jobs, self.status = selection, jobs, status
        self.setWindowTitle("Export")
        self.resize(640, 460)
        self.job: Job | None = None

        self.folder = _field("Folder, e.g. your Obsidian vault's Papers folder")
        self.one_file = _field("Leave empty for one file per paper, or name a reading list")
        self.template = _field("Default template (or a Jinja2 template file)")
        self.bib_path = _field("papers.bib")
        md, bib = QWidget(), QWidget()
        column(_path_row("Folder:", self.folder, self._choose_folder),
               _path_row("Reading list:", self.one_file),
               _path_row("Template:", self.template, self._choose_template), 1, on=md)
        column(_path_row("File:", self.bib_path, self._choose_bib), 1, on=bib)
        self.tabs = QTabWidget()
        self.tabs.addTab(md, "Markdown folder")
        self.tabs.addTab(bib, "BibTeX file")

        self.scope_buttons = {key: QPushButton(checkable=True, autoExclusive=True)  # radio-like
                              for key, _title in SCOPES}

        self.output = QPlainTextEdit(readOnly=True)
        self.progress = QProgressBar()
        self.progress.hide()
        self.preview_button = button("Preview (dry run)", lambda: self.run(dry_run=True))
        self.export_button = button("Export", lambda: self.run(dry_run=False))
        self.export_button.setDefault(True)
        self.cancel_button = button("Cancel export", self.cancel)
        self.cancel_button.hide()
        column(self.tabs, row(QLabel("Papers:"), *self.scope_buttons.values(), 1), (self.output, 1),
               row((self.progress, 1), self.cancel_button, self.preview_button, self.export_button,
                   button("Close", self.close)), on=self)
        self.tabs.currentChanged.connect(lambda _i: self.preview_button.setEnabled(
            self.tabs.currentIndex() == 0 and self.job is None))
        jobs.progress.connect(self._job_progress)
        self.refresh_scope()

    def _choose_folder(self) -> str:
        start = self.folder.text() or str(Path.home())
        return QFileDialog.getExistingDirectory(self, "Export Markdown into", start)

    def _choose_template(self) -> str:
        return QFileDialog.getOpenFileName(self, "Template", str(Path.home()),
                                           "Templates (*.md *.j2 *.jinja)")[0]

    def _choose_bib(self) -> str:
        return QFileDialog.getSaveFileName(self, "Export BibTeX", self.bib_path.text()
                                           or str(Path.home() / "papers.bib"), "BibTeX (*.bib)")[0]

    # -- what to export -------------------------------------------------------------------------
    def scope_ids(self, key: str) -> Sequence[str]:
        listed, marked = self.selection.model.ids, self.selection.marked
        if key == "view":  # the list as it is (immutable: a PackedIds or LazyIds), read by the job:
            return listed  # no million str made on the GUI thread, nor a wait for a LazyIds' rest
        if key == "selection":
            return self.selection.selected_ids()
        if not marked:
            return []
        return [pid for pid in listed if pid in marked] + sorted(set(marked) - set(listed))

    def refresh_scope(self) -> None:
        """Counts on the scope buttons; the first non-empty scope is chosen if none is."""
        # Counted, not listed: the whole list is a million ids at most (PackedIds), decoded only
        # when exported; the marked scope holds every marked paper once, listed or not.
        counts = {"view": len(self.selection.model.ids), "selection": len(self.selection.selected_ids()),
                  "marked": len(self.selection.marked)}
        for key, title in SCOPES:
            button = self.scope_buttons[key]
            button.setText(f"{title} ({counts[key]:,})")
            button.setEnabled(counts[key] > 0)
        chosen = self.scope()
        if chosen is None or counts[chosen] == 0:  # marked papers first, then a real selection
            key = "marked" if counts["marked"] else "selection" if counts["selection"] > 1 else "view"
            if counts[key]:
                self.set_scope(key)

    def scope(self) -> str | None:
        return next((k for k, b in self.scope_buttons.items() if b.isChecked()), None)

    def set_scope(self, key: str) -> None:
        self.scope_buttons[key].setChecked(True)

    # -- running --------------------------------------------------------------------------------
    def run(self, dry_run: bool = False) -> Job | None:
        """Check the input here (one-line message, nothing changed), export on the writer thread."""
        if self.job is not None:
            return None
        key = self.scope()
        ids = self.scope_ids(key) if key else []
        if not ids:
            return self._say("Nothing to export: choose papers (the list, a selection or marked papers).")
        if self.tabs.currentIndex() == 0:
            folder = self.folder.text().strip()
            if not folder:
                return self._say("Choose the folder to export into.")
            one_file = self.one_file.text().strip() or None
            template = self.template.text().strip() or None

            def work(lib: Library, progress, cancelled) -> object:
                return export_markdown(lib, folder, ids, one_file=one_file, template=template,
                                       dry_run=dry_run, progress=progress, cancelled=cancelled)

            label = f"{'Preview' if dry_run else 'Export'} {len(ids)} papers to Markdown"
        else:
            target = self.bib_path.text().strip()
            if not target:
                return self._say("Choose the BibTeX file to write.")

            def work(lib: Library, progress, cancelled) -> object:
                return export_bibtex(lib, ids, target, progress=progress, cancelled=cancelled)

            label = f"Export {len(ids)} papers to BibTeX"

        def guarded(lib: Library, progress, cancelled) -> object:
            try:
                return work(lib, progress, cancelled)
            except ExportError as exc:  # bad folder, file or template: a message, nothing written
                return str(exc)

        self._busy(True)
        self.output.setPlainText(f"{label}…")
        self.job = self.jobs.run(label, guarded, on_success=self._done, on_failure=self._failed)
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _job_progress(self, job: Job, done: int, total: int, _what: str) -> None:
        if job is self.job:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.progress.setRange(0, 0)
        self.cancel_button.setVisible(busy)
        self.export_button.setEnabled(not busy)
        self.preview_button.setEnabled(not busy and self.tabs.currentIndex() == 0)

    def _say(self, text: str) -> None:
        self.output.setPlainText(text)
        return None

    def _done(self, result: object) -> None:
        if isinstance(result, str):  # refused: a bad folder, file or template
            self._end(result, result)
        else:
            self.status(result.summary())  # type: ignore[attr-defined]
            self._end(result, describe(result))  # type: ignore[arg-type]

    def _failed(self, message: str) -> None:
        self._end(message, f"Export stopped: {message}")

    def _end(self, result: object, text: str) -> None:
        self.job = None
        self._busy(False)
        self.output.setPlainText(text)
        self.finished_export.emit(result)


class ExportCommand:
    """The `export` command (File > Export…, its key, the palette; the menu entry is the command's
    own, made from core/keymap.py): the dialog, made when first asked, on the current list,
    selection and marks."""

    def __init__(self, selection: Selection, jobs: JobRunner, status: Callable[..., None], parent: QWidget):
        self.make = partial(ExportDialog, selection, jobs, status, parent)
        self.dialog: ExportDialog | None = None

    def show(self) -> ExportDialog:
        if self.dialog is None:
            self.dialog = self.make()
        self.dialog.refresh_scope()
        self.dialog.show()
        return self.dialog
