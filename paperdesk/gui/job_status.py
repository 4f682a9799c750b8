"""The status bar's side of background work: a long job's progress bar and its Cancel (the
button and the `cancel-job` command). Tasks that run beside the writer's jobs (a feed refresh,
an arXiv look-up) show their progress here too and are cancelled with them."""

from __future__ import annotations

from typing import Protocol

from paperdesk.gui.jobs import Job, JobRunner
from paperdesk.gui.qt import QAction, QProgressBar, QStatusBar, QToolButton
from paperdesk.gui.theme import icon


class Background(Protocol):
    """A task that shows its own progress while the writer may be idle."""

    @property
    def running(self) -> bool: ...

    def cancel(self) -> None: ...


class JobStatus:
    def __init__(self, bar: QStatusBar, jobs: JobRunner, cancel_action: QAction):
        self.bar = bar
        self.jobs = jobs
        self.cancel_action = cancel_action
        self.background: list[Background] = []
        self._message = ""  # the job progress text shown, cleared when jobs end
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(True)
        self.cancel_button = QToolButton()
        self.cancel_button.setIcon(icon("cancel"))
        self.cancel_button.setToolTip("Cancel the background job")
        self.cancel_button.clicked.connect(self.cancel)
        self.hide()
        jobs.started.connect(lambda job: self.show(job, 0, 0))
        jobs.progress.connect(lambda job, done, total, what: self.show(job, done, max(total, 1), what))
        jobs.idle.connect(self._idle)

    def _idle(self) -> None:
        if not any(task.running for task in self.background):  # (they show their own)
            self.hide()

    def show(self, job: Job, done: int, total: int, what: str = "") -> None:
        """A long job's progress (an import, a feed refresh); Cancel shown."""
        self.progress.setRange(0, total)  # 0, 0: busy, no count yet
        self.progress.setValue(done)
        self.progress.setFormat(f"{done}/{total} %p%" if total else job.label)
        self.progress.show()
        self.cancel_button.show()
        self.cancel_action.setEnabled(True)
        if what:
            self._message = f"{job.label}: {what}"
            self.bar.showMessage(self._message)

    def hide(self) -> None:
        if self.bar.currentMessage() == self._message:  # not a result's summary
            self.bar.clearMessage()
        self.progress.hide()
        self.cancel_button.hide()
        self.cancel_action.setEnabled(False)

    def cancel(self) -> None:
        """Cancel: the long jobs and the background tasks; the user's own writes still happen."""
        self.jobs.cancel_all()
        for task in self.background:
            task.cancel()
