"""Feed refresh while the desk is open: a timer; the network outside the writer thread.

Every CHECK_MS the scheduler asks the library how many feeds are due (one small query); if any
are and no refresh is running, it plans the refresh here (`plan_refresh`), fetches and parses on
the core's `Fetcher` threads, and queues each feed's `apply_outcome` on the writer as a short
job the moment it arrives. So a slow server never holds the writer: a star asked for meanwhile
is stored at once. Progress and Cancel go through the status bar like an import's. `refresh()`
is the on-demand path (menu, Feeds view). The summary of the last run is kept for the status
bar and tests.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from paperdesk.core.feeds.refresh import (
    FeedOutcome,
    FeedResult,
    Fetcher,
    apply_outcome,
    due_count,
    plan_refresh,
)
from paperdesk.core.library import Library
from paperdesk.gui.job_status import JobStatus
from paperdesk.gui.jobs import Job, JobRunner
from paperdesk.gui.outbox import Outbox
from paperdesk.gui.qt import QObject, QTimer, QWidget, Signal

CHECK_MS = 60_000  # how often to look for due feeds
FIRST_CHECK_MS = 3_000  # soon after the window opens (not during start-up)
STORE_EVERY_MS = 300  # fetched feeds are stored together at most this often


def summarize(results: list[FeedResult]) -> str:
    if not results:
        return "Feeds: nothing to refresh"
    new = sum(r.new for r in results)
    failing = [r for r in results if r.status == "error"]
    unchanged = sum(1 for r in results if r.status == "not-modified")
    cancelled = sum(1 for r in results if r.status == "cancelled")
    text = f"Feeds: {len(results)} refreshed, {new} new paper{'s' if new != 1 else ''}"
    if unchanged:
        text += f", {unchanged} unchanged"
    if failing:
        text += f"; {len(failing)} failing ({failing[0].name}: {failing[0].error})"
    if cancelled:
        text += f"; {cancelled} cancelled"
    moved = [r for r in results if r.moved_to]
    if moved:
        first = moved[0]
        kept = f", address kept: {first.kept_address}" if first.kept_address else ""
        text += f"; {len(moved)} moved permanently ({first.name} → {first.moved_to}{kept})"
    return text


class FeedScheduler(QObject):
    refreshed = Signal(object)  # list[FeedResult], on the GUI thread
    failed = Signal(str)
    _arrived = Signal(object)  # a FeedOutcome, emitted on a fetch thread, queued to this one

    def __init__(self, lib: Library, jobs: JobRunner, job_status: JobStatus, status: Callable[..., None],
                 window: QWidget, check_ms: int = CHECK_MS):
        super().__init__(window)
        self.lib, self.jobs, self.job_status, self.status = lib, jobs, job_status, status
        self.window = window  # due feeds are refreshed only while it is shown
        self.job: Job | None = None  # the running refresh (its label, progress and cancel flag)
        self.last_summary = ""
        self._fetcher: Fetcher | None = None
        self._results: dict[int, FeedResult] = {}
        self._order: list[int] = []  # feed ids as planned
        self._writes: list[Job] = []  # store jobs queued on the writer
        self._inbox: deque[FeedOutcome] = deque()  # fetched, not yet taken by a store job
        self._store_queued = False  # a store job is queued and has not started taking outcomes
        self._arrived.connect(self._store)
        self._outbox = Outbox(self._arrived)
        self._store_timer = QTimer(self, singleShot=True, interval=STORE_EVERY_MS)
        self._store_timer.timeout.connect(self._submit_store)
        self.timer = QTimer(self, interval=check_ms)
        self.timer.timeout.connect(self.check)
        self._first = QTimer(self, singleShot=True, interval=FIRST_CHECK_MS)
        self._first.timeout.connect(self.check)

    @property
    def running(self) -> bool:
        return self.job is not None

    def start(self) -> None:
        self.timer.start()
        self._first.start()

    def stop(self) -> None:
        """At close: no new refresh; downloads in flight are cut, their threads left to end."""
        self.timer.stop()
        self._first.stop()
        self._store_timer.stop()
        self._outbox.close()
        if self._fetcher is not None:
            self._fetcher.close(wait_for_threads=False)

    def check(self) -> Job | None:
        """Refresh the due feeds, unless a refresh is running or the window is closing."""
        if self.running or not self.window.isVisible():
            return None
        if due_count(self.lib) == 0:
            return None
        return self.refresh(None, due_only=True)

    def refresh(self, feed_ids: Iterable[int] | None = None, *, due_only: bool = False) -> Job | None:
        """One refresh of all the feeds (or `feed_ids`); a second request while one runs is ignored."""
        if self.running:
            self.status("Feeds are already refreshing")
            return None
        ids = list(feed_ids) if feed_ids is not None else None
        label = "Refresh feeds" if ids is None else f"Refresh {len(ids)} feed{'s' if len(ids) != 1 else ''}"
        try:
            planned = plan_refresh(self.lib, ids, due_only=due_only)
        except Exception as exc:  # (a feed removed meanwhile: FeedError)
            self.status(f"{label}: {exc}")
            return None
        self.job = Job(label, lambda _lib, _p, _c: None)
        self._results, self._writes, self._store_queued = {}, [], False
        self._inbox.clear()
        self._order = [j.feed_id for j in planned]
        self.job_status.show(self.job, 0, len(planned))
        if not planned:
            self._finish()
            return self.job
        fetcher = self._fetcher = Fetcher(workers=min(4, len(planned)))
        for feed_job in planned:
            fetcher.submit(feed_job).add_done_callback(self._fetched)
        return self.job

    def _fetched(self, future) -> None:
        """On a fetch thread: hand the outcome to the GUI thread (the emit is queued)."""
        if future.cancelled():
            return
        self._outbox.send(future.result())  # run_job never raises

    def _store(self, outcome: FeedOutcome) -> None:
        """Queue the outcome for the writer. Outcomes arriving within STORE_EVERY_MS, or while a
        store job waits to run, share one job: one transaction per feed, but one `Changes` (and
        one refresh of the list and sidebar) for the lot, instead of one per feed."""
        job = self.job
        if job is None or job.cancelled:
            return
        self._inbox.append(outcome)
        if not self._store_queued and not self._store_timer.isActive():
            self._store_timer.start()

    def _submit_store(self) -> None:
        job = self.job
        if job is None or job.cancelled or not self._inbox:
            return
        self._store_queued = True

        def store(lib, _progress, cancelled) -> list[FeedResult]:
            self._store_queued = False  # from here on, a new outcome needs a job of its own
            results = []
            while self._inbox and not cancelled():
                results.append(self._apply(lib, self._inbox.popleft()))
            return results

        def stored(results: object) -> None:
            if self.job is not job:  # cancelled meanwhile
                return
            for result in results:  # type: ignore[attr-defined]
                self._results[result.feed_id] = result
            if results:
                self.job_status.show(job, len(self._results), len(self._order), results[-1].name)
            if len(self._results) == len(self._order):
                self._finish()

        def failed(_message: str) -> None:  # cancelled; or the writer's library could not open
            if self.job is job and not job.cancelled:
                self._failed(_message)

        self._writes.append(self.jobs.run("Store feeds", store, stored, failed, quiet=True))

    @staticmethod
    def _apply(lib, outcome: FeedOutcome) -> FeedResult:
        try:
            return apply_outcome(lib, outcome)
        except Exception as exc:  # (the feed's health could not be recorded) this feed only
            feed = outcome.job
            return FeedResult(feed.feed_id, feed.name, "error", error=f"{type(exc).__name__}: {exc}")

    def cancel(self) -> None:
        job = self.job
        if job is None:
            return
        job.cancel()
        for write in self._writes:
            write.cancel()
        self._failed("cancelled")

    def _finish(self) -> None:
        results = [self._results[i] for i in self._order if i in self._results]
        if self._fetcher is not None:
            self._fetcher.close()  # every fetch is done: its threads end at once
            self._fetcher = None
        self._end()
        self.last_summary = summarize(results)
        self.status(self.last_summary, 0)
        self.refreshed.emit(results)

    def _failed(self, message: str) -> None:
        self._end()
        self.last_summary = f"Feeds: {message}"
        self.status(self.last_summary)
        self.failed.emit(message)

    def _end(self) -> None:
        self._store_timer.stop()
        if self._fetcher is not None:
            self._fetcher.close(wait_for_threads=False)
            self._fetcher = None
        self.job = None
        self._writes = []
        self.job_status.hide()
