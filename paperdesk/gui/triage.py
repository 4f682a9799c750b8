"""A triage session in the desk: walk a snapshot of the view with keep / skip / archive, then a summary.

Keys while it runs: `Return` keeps, `j` (next) or `Space` skips, `e` archives, `s` stars and `1`–`9`
(or the `t` popup) tag, each deciding and moving on in one key; `k` goes back, `T` ends. Notes work as
always. All of it is counted in the summary (core `TriageSession.summary`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from paperdesk.core import Library
from paperdesk.core.keymap import Keymap
from paperdesk.core.texchars import tex_to_unicode
from paperdesk.core.triage import TriageSession, TriageSummary
from paperdesk.gui.layout import button, column
from paperdesk.gui.qt import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QStatusBar,
    Qt,
    QWidget,
    Signal,
)

if TYPE_CHECKING:
    from paperdesk.gui.dialogs import Dialogs
    from paperdesk.gui.jobs import JobRunner
    from paperdesk.gui.selection import Selection

ID_ROLE = Qt.ItemDataRole.UserRole + 1


class Triage:
    """At most one session at a time, over a snapshot of the view's ids; its progress sits in the
    status bar. Every decision is a write on the desk's writer; the summary opens at the end."""

    def __init__(self, lib: Library, keymap: Keymap, jobs: JobRunner, selection: Selection,
                 bar: QStatusBar, dialogs: Dialogs, open_paper: Callable[[str], None],
                 go_to: Callable[[str], None]):
        self.lib, self.keymap, self.jobs, self.selection = lib, keymap, jobs, selection
        self.bar, self.dialogs, self.open_paper, self.go_to = bar, dialogs, open_paper, go_to
        self.session: TriageSession | None = None
        self.label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(120)
        self.progress.setTextVisible(False)
        self.label.hide()
        self.progress.hide()

    def toggle(self, ids: Sequence[str], name: str) -> None:
        """Start a session on `ids` (the list shown, kept as it is), or end the running one."""
        if self.session is not None:
            self.finish()
            return
        if not ids:
            self.bar.showMessage("Nothing to triage in this view", 8000)
            return
        self.session = TriageSession(self.lib, ids, name)
        self.progress.setRange(0, len(ids))
        self.label.show()
        self.progress.show()
        self.bar.showMessage(self.help_text(), 0)
        self._show()

    def help_text(self) -> str:
        """The keys, as the active key map binds them."""
        def key(command: str) -> str:
            return (self.keymap.keys_for(command) or ["(unbound)"])[0]

        return (f"Triage: {key('keep')} keeps, {key('next')} or {key('skip')} skips, {key('archive-next')} "
                f"archives, {key('star')} stars, 1–9 tag (each goes on); {key('previous')} goes back, "
                f"{key('triage')} ends")

    def _show(self) -> None:
        assert self.session is not None
        if self.session.done:
            self.finish()
            return
        self.label.setText(f"Triage {self.session.name}: {self.session.progress()}")
        self.progress.setValue(self.session.position)
        pid = self.session.current
        if pid is not None and not self.selection.select_id(pid):
            self.open_paper(pid)
        self.selection.table.setFocus()

    def decide(self, action: str) -> None:
        """keep / skip / archive the session's paper and move on; outside a session, skip moves on."""
        if self.session is None:
            if action == "skip":
                self.selection.move_current(1)
            return
        pid = self.session.current
        if pid is None:
            self.finish()
            return
        # A decision means the paper was looked at: it is read (the reader's 600 ms timer would
        # miss a fast triage). Skipping is no decision.
        if action == "archive":  # through the desk's writer (queued behind a running job)
            self.jobs.write("Archive", lambda lib: (lib.mark_read([pid]), lib.archive([pid])))
        elif action != "skip":
            self._mark_read([pid])
        self.session.decisions[pid] = action
        self.session.position += 1
        self._show()

    def decided(self, ids: list[str], bulk: bool) -> None:
        """Starring or tagging in a session is a decision on the paper: it is read now, and the
        session moves on (kept), as `e` does; marked papers are only marked read."""
        if self.session is None:
            return
        if bulk:
            self._mark_read(ids)
        else:
            self.decide("keep")  # marks the paper read

    def _mark_read(self, ids: list[str]) -> None:
        self.jobs.write("Mark read", lambda lib: lib.mark_read(ids),
                        lambda _r: self.selection.model.refresh_rows(set(ids)))

    def previous(self) -> None:
        if self.session is None:
            self.selection.move_current(-1)
            return
        self.session.back()
        self._show()

    def finish(self) -> None:
        session, self.session = self.session, None
        self.label.hide()
        self.progress.hide()
        self.bar.clearMessage()
        # The summary reads the operation log: after the writer has stored the last decisions.
        self.jobs.write("Triage summary", lambda _lib: None, lambda _result: self._summarize(session))

    def _summarize(self, session: TriageSession) -> None:
        dialog = TriageSummaryDialog(session.summary(), self.lib, self.bar.window())
        dialog.paper_chosen.connect(self.open_paper)
        dialog.show_starred.connect(lambda: self.go_to("starred"))
        self.dialogs.open(dialog)


class TriageSummaryDialog(QDialog):
    paper_chosen = Signal(str)
    show_starred = Signal()

    def __init__(self, summary: TriageSummary, lib: Library, parent: QWidget):
        super().__init__(parent)
        self.setWindowTitle("Triage summary")
        self.label = QLabel(
            f"<b>{summary.seen} of {summary.total}</b> papers triaged.<br>"
            f"Starred <b>{len(summary.starred)}</b> · tagged <b>{len(summary.tagged)}</b> · "
            f"archived <b>{summary.archived}</b> · noted <b>{len(summary.noted)}</b><br>"
            f"Kept {summary.kept}, skipped {summary.skipped}.")
        self.starred = QListWidget()
        # A long title wraps onto more lines instead of running off behind a sideways scroll bar.
        self.starred.setWordWrap(True)
        self.starred.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for record in lib.records(summary.starred):
            item = QListWidgetItem("★ " + tex_to_unicode(record["title"]))
            item.setData(ID_ROLE, record["id"])
            self.starred.addItem(item)
        self.starred.itemActivated.connect(self._open)
        self.show_button = button("Show starred papers", lambda: (self.show_starred.emit(), self.accept()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.show_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        starred = (QLabel("Starred in this session (double-click to open):"), self.starred)
        column(self.label, *(starred if summary.starred else ()), buttons, on=self)
        self.resize(520, 380 if summary.starred else 160)

    def _open(self, item: QListWidgetItem) -> None:
        self.paper_chosen.emit(item.data(ID_ROLE))
        self.accept()
