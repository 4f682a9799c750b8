"""Looking up papers' arXiv ids by title from the desk: a background job with progress and Cancel
that keeps the network off the writer.

The core's three steps (`core/pdf/arxiv.py`): the writer plans (marks the papers `pending`, so a
cancel or a crash leaves the rest for the next look-up or `paperdesk resolve --all`); one plain
thread asks the arXiv API, one polite request per batch of titles, without the database; each
answer is stored by a quiet writer job (one undoable operation per batch that found ids). A failed
request (a dead or refusing server) ends the look-up with one line; its papers are asked again
next time. After a desk import, `offer` shows a button in the status bar for the new papers that
have no id; nothing is asked before the user says so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from paperdesk.core.library import Library
from paperdesk.gui.job_status import JobStatus
from paperdesk.gui.jobs import Job, JobRunner
from paperdesk.gui.outbox import Outbox
from paperdesk.gui.qt import QEvent, QObject, QPushButton, QTimer, QWidget, Signal

if TYPE_CHECKING:
    from paperdesk.core.pdf.arxiv import BatchOutcome, LookupResult, TitleBatch

OFFER_MS = 120_000  # how long the status bar offers a look-up after an import


class ArxivLookup(QObject):
    finished = Signal(object)  # list[LookupResult], on the GUI thread, also when cancelled or failed
    _arrived = Signal(object)  # BatchOutcome, emitted on the look-up thread

    def __init__(self, lib: Library, jobs: JobRunner, job_status: JobStatus, status: Callable[..., None],
                 window: QWidget):
        super().__init__(window)
        self.lib, self.jobs, self.job_status, self.status = lib, jobs, job_status, status
        self.window = window
        self.job: Job | None = None
        self.results: list[LookupResult] = []
        self.last_summary = ""
        self._batches = 0
        self._stored = 0
        self._error: str | None = None
        self._arrived.connect(self._store)
        self._outbox = Outbox(self._arrived)
        self.offer_button = QPushButton()
        self.offer_button.hide()
        self.offer_button.clicked.connect(self._take_offer)
        self._offered: list[str] = []
        self._offer_timer = QTimer(self, singleShot=True, interval=OFFER_MS)
        self._offer_timer.timeout.connect(self.withdraw_offer)
        window.installEventFilter(self)  # closing the window stops the look-up's thread

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Close:
            self._outbox.close()  # nothing more arrives from the look-up's thread
            if self.job is not None:
                self.job.cancel()  # its thread stops at its next turn; nothing more is stored
        return False

    @property
    def running(self) -> bool:
        return self.job is not None

    # -- the offer after an import ------------------------------------------------------------
    def offer(self, new_ids: Sequence[str]) -> None:
        """After an import: count the new papers without an arXiv id (on the writer) and, if
        any, offer to look them up (a status-bar button; no dialog in the middle of triage)."""
        if not new_ids:
            return
        ids = list(new_ids)

        def shown(missing: object) -> None:
            if missing and not self.running:
                self._offered = list(missing)  # type: ignore[arg-type]
                n = len(self._offered)
                self.offer_button.setText(f"Look up arXiv ids of {n:,} new paper{'s' if n != 1 else ''}")
                self.offer_button.show()
                self._offer_timer.start()

        from paperdesk.core.pdf.arxiv import without_arxiv_id

        self.jobs.write("Count papers without arXiv ids", lambda lib: without_arxiv_id(lib, ids), shown)

    def withdraw_offer(self) -> None:
        self._offer_timer.stop()
        self.offer_button.hide()
        self._offered = []

    def _take_offer(self) -> None:
        ids = self._offered
        self.withdraw_offer()
        self.start(ids)

    # -- the look-up --------------------------------------------------------------------------
    def start(self, ids: Sequence[str] | None = None) -> Job | None:
        """Look up the papers' ids (None: every paper still without one, including those a
        cancelled or crashed look-up left pending)."""
        if self.running:
            self.status("arXiv ids are already being looked up")
            return None
        from paperdesk.core.pdf import settings as pdf_settings

        self.withdraw_offer()
        config = pdf_settings.load(self.lib)
        job = self.job = Job("Look up arXiv ids", lambda _lib, _p, _c: None)
        self.results, self._batches, self._stored, self._error = [], 0, 0, None
        self.job_status.show(job, 0, 0, "planning")
        wanted = None if ids is None else list(ids)

        def plan(lib: Library) -> tuple[list[TitleBatch], list[LookupResult]]:
            from paperdesk.core.pdf.arxiv import plan_lookups

            return plan_lookups(lib, wanted)

        def planned(result: object) -> None:
            batches, skipped = result  # type: ignore[misc]
            if self.job is not job:
                return
            self.results += skipped
            self._batches = len(batches)
            if not batches:
                self._finish()
                return
            self._progress()
            ask = (job, batches, config.arxiv_api, config.interval_for(config.arxiv_api), config.timeout)
            threading.Thread(target=self._ask, args=ask,
                             name="paperdesk-arxiv-lookup", daemon=True).start()

        self.jobs.write("Plan arXiv look-ups", plan, planned)
        return job

    def cancel(self) -> None:
        """Stop asking; what was not asked stays pending for the next look-up."""
        job = self.job
        if job is not None:
            job.cancel()
            self._finish()

    # -- look-up thread (no database) ---------------------------------------------------------
    def _ask(self, job: Job, batches: list[TitleBatch], api: str, interval: float, timeout: float) -> None:
        from paperdesk.core.feeds.fetch import make_client
        from paperdesk.core.pdf.arxiv import api_limits, run_batch

        client = make_client(api_limits(timeout), accept="application/atom+xml")
        try:
            for batch in batches:
                if job.cancelled:
                    return
                outcome = run_batch(batch, client, api=api, interval=interval,
                                    cancelled=lambda: job.cancelled, timeout=timeout)
                if not self._outbox.send((job, outcome)):
                    return  # the window closed
                if outcome.status != "ok":
                    return  # a dead or refusing server: one line, the rest asked next time
        finally:
            client.close()

    # -- GUI thread ---------------------------------------------------------------------------
    def _store(self, arrived: tuple[Job, BatchOutcome]) -> None:
        job, outcome = arrived
        if self.job is not job or outcome.status == "cancelled":
            return
        from paperdesk.core.pdf.arxiv import apply_batch

        if outcome.status == "error":
            self._error = outcome.error

        def stored(results: object) -> None:
            if self.job is not job:
                return
            self.results += results  # type: ignore[arg-type]
            self._stored += 1
            self._progress()
            if self._error or self._stored == self._batches:
                self._finish()

        self.jobs.write("Store arXiv ids", lambda lib: apply_batch(lib, outcome), stored)

    def _progress(self) -> None:
        if self.job is not None:
            found = sum(r.state == "resolved" for r in self.results)
            self.job_status.show(self.job, self._stored, self._batches, f"{found} found")

    def _finish(self) -> None:
        job, self.job = self.job, None
        self.last_summary = self._summary(cancelled=job is not None and job.cancelled)
        self.job_status.hide()
        self.status(self.last_summary, 0)
        self.finished.emit(self.results)

    def _summary(self, *, cancelled: bool) -> str:
        counts = {s: sum(r.state == s for r in self.results) for s in ("resolved", "unmatched", "skipped")}
        text = (f"arXiv ids: {counts['resolved']} found, {counts['unmatched']} without an exact title match"
                + (f", {counts['skipped']} already had one" if counts["skipped"] else ""))
        if self._error:  # one line for a dead or refusing server, whatever the batches
            return f"{text}; stopped: {self._error}; the rest are asked next time"
        if cancelled:
            return f"{text}; cancelled: the rest are asked next time"
        return text
