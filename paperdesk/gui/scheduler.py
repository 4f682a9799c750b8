"""Feed refresh while the desk is open: a timer, and ONE writer-thread job per refresh.

Every CHECK_MS the scheduler asks the library how many feeds are due (one small query); if any
are and no refresh is running, it submits `refresh_feeds(lib, due_only=True, ...)` as a job on
`window.jobs`: fetches run in the core's small thread pool, every database write on the writer
thread, progress and cancel through the status bar like an import. `refresh()` is the on-demand
path (menu, Feeds view). The summary of the last run is kept for the status bar and tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from paperdesk.core.feeds.refresh import FeedResult, due_count, refresh_feeds
from paperdesk.core.library import Library
from paperdesk.gui.jobs import Job
from paperdesk.gui.qt import QObject, QTimer, Signal

if TYPE_CHECKING:
    from paperdesk.gui.main_window import MainWindow

CHECK_MS = 60_000  # how often to look for due feeds
FIRST_CHECK_MS = 3_000  # soon after the window opens (not during start-up)


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
    return text


class FeedScheduler(QObject):
    refreshed = Signal(object)  # list[FeedResult], on the GUI thread
    failed = Signal(str)

    def __init__(self, window: MainWindow, check_ms: int = CHECK_MS):
        super().__init__(window)
        self.window = window
        self.lib = window.lib
        self.job: Job | None = None
        self.last_results: list[FeedResult] = []
        self.last_summary = ""
        self.timer = QTimer(self)
        self.timer.setInterval(check_ms)
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
        self.timer.stop()
        self._first.stop()

    def check(self) -> Job | None:
        """Refresh the due feeds, unless a refresh is running or the window is closing."""
        if self.running or not self.window.isVisible():
            return None
        if due_count(self.lib) == 0:
            return None
        return self.refresh(None, due_only=True)

    def refresh(self, feed_ids: Iterable[int] | None = None, *, due_only: bool = False) -> Job | None:
        """One job for all the feeds (or `feed_ids`); a second request while one runs is ignored."""
        if self.running:
            self.window.status("Feeds are already refreshing")
            return None
        ids = list(feed_ids) if feed_ids is not None else None

        def work(lib: Library, progress, cancelled) -> list[FeedResult]:
            return refresh_feeds(lib, ids, due_only=due_only, progress=progress, cancelled=cancelled)

        label = "Refresh feeds" if ids is None else f"Refresh {len(ids)} feed{'s' if len(ids) != 1 else ''}"
        self.job = self.window.jobs.run(label, work, on_success=self._done, on_failure=self._failed)
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _done(self, results: object) -> None:
        self.job = None
        self.last_results = list(results)  # type: ignore[call-overload]
        self.last_summary = summarize(self.last_results)
        self.window.status(self.last_summary, 0)
        self.refreshed.emit(self.last_results)

    def _failed(self, message: str) -> None:
        self.job = None
        self.last_summary = f"Feeds: {message}"
        self.window.status(self.last_summary)
        self.failed.emit(message)
