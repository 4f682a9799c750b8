"""A triage session in the desk: walk a snapshot of the view with keep / skip / archive, then a summary.

Keys while it runs: `Return` keeps, `j` (next) or `Space` skips, `e` archives, `s` stars and `1`–`9`
(or the `t` popup) tag, each deciding and moving on in one key; `k` goes back, `T` ends. Notes work as
always. All of it is counted in the summary (core `TriageSession.summary`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperdesk.core.texchars import tex_to_unicode
from paperdesk.core.triage import TriageSession, TriageSummary
from paperdesk.gui.qt import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QObject,
    QPushButton,
    Qt,
    QVBoxLayout,
    Signal,
)

if TYPE_CHECKING:
    from paperdesk.gui.main_window import MainWindow

ID_ROLE = Qt.ItemDataRole.UserRole + 1


class TriageController(QObject):
    ended = Signal()

    def __init__(self, window: MainWindow, ids: list[str], name: str):
        super().__init__(window)
        self.window = window
        self.session = TriageSession(window.lib, ids, name)
        self.summary: TriageSummary | None = None
        self.summary_dialog: TriageSummaryDialog | None = None

    def start(self) -> None:
        w = self.window
        w.triage_progress.setRange(0, len(self.session.ids))
        w.triage_label.show()
        w.triage_progress.show()
        w.status(self.help_text(), 0)
        self._show()

    def help_text(self) -> str:
        """The keys, as the active key map binds them."""
        def key(command: str) -> str:
            return (self.window.keymap.keys_for(command) or ["(unbound)"])[0]

        return (f"Triage: {key('keep')} keeps, {key('next')} or {key('skip')} skips, {key('archive-next')} "
                f"archives, {key('star')} stars, 1–9 tag (each goes on); {key('previous')} goes back, "
                f"{key('triage')} ends")

    def progress_text(self) -> str:
        return f"Triage {self.session.name}: {self.session.progress()}"

    def _show(self) -> None:
        if self.session.done:
            self.finish()
            return
        w = self.window
        w.triage_label.setText(self.progress_text())
        w.triage_progress.setValue(self.session.position)
        pid = self.session.current
        if pid is not None and not w.select_id(pid):
            w.open_paper(pid)
        w.table.setFocus()

    def decide(self, action: str) -> None:
        pid = self.session.current
        if pid is None:
            self.finish()
            return
        # A decision means the paper was looked at: it is read (the reader's 600 ms timer would
        # miss a fast triage). Skipping is no decision.
        if action == "archive":  # through the desk's writer (queued behind a running job)
            self.window.write("Archive", lambda lib: (lib.mark_read([pid]), lib.archive([pid])))
        elif action != "skip":
            self.window.mark_read([pid])
        self.session.decisions[pid] = action
        self.session.position += 1
        self._show()

    def back(self) -> None:
        self.session.back()
        self._show()

    def finish(self) -> None:
        w = self.window
        w.triage_label.hide()
        w.triage_progress.hide()
        w.statusBar().clearMessage()
        self.ended.emit()
        # The summary reads the operation log: after the writer has stored the last decisions.
        w.write("Triage summary", lambda _lib: None, lambda _result: self._summarize())

    def _summarize(self) -> None:
        w = self.window
        self.summary = self.session.summary()
        self.summary_dialog = TriageSummaryDialog(self.summary, w)
        self.summary_dialog.paper_chosen.connect(w.open_paper)
        self.summary_dialog.show_starred.connect(lambda: w.go_to("starred"))
        w._open_dialog(self.summary_dialog)


class TriageSummaryDialog(QDialog):
    paper_chosen = Signal(str)
    show_starred = Signal()

    def __init__(self, summary: TriageSummary, window: MainWindow):
        super().__init__(window)
        self.setWindowTitle("Triage summary")
        lib = window.lib
        self.label = QLabel(
            f"<b>{summary.seen} of {summary.total}</b> papers triaged.<br>"
            f"Starred <b>{len(summary.starred)}</b> · tagged <b>{len(summary.tagged)}</b> · "
            f"archived <b>{summary.archived}</b> · noted <b>{len(summary.noted)}</b><br>"
            f"Kept {summary.kept}, skipped {summary.skipped}.")
        self.starred = QListWidget()
        for record in lib.records(summary.starred):
            item = QListWidgetItem("★ " + tex_to_unicode(record["title"]))
            item.setData(ID_ROLE, record["id"])
            self.starred.addItem(item)
        self.starred.itemActivated.connect(self._open)
        self.show_button = QPushButton("Show starred papers")
        self.show_button.clicked.connect(lambda: (self.show_starred.emit(), self.accept()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.show_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        if summary.starred:
            layout.addWidget(QLabel("Starred in this session (double-click to open):"))
            layout.addWidget(self.starred)
        layout.addWidget(buttons)
        self.resize(520, 380 if summary.starred else 160)

    def _open(self, item: QListWidgetItem) -> None:
        self.paper_chosen.emit(item.data(ID_ROLE))
        self.accept()
