"""Papers' PDFs fetched for the desk: on demand (a key) and, when the setting is on, for starred papers
in the background, so starring builds an offline reading pack.

The core's three steps keep the network off the library's threads: the window's library plans
(`plan_downloads`, reads only), one plain download thread fetches and checks each file (no database),
and the window's one write path stores it (`apply_download` through `JobRunner.write`). The result's
`Changes` then refresh the reader, which opens the PDF if its paper is shown.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from paperdesk.core.library import Library, LibraryError
from paperdesk.gui.jobs import JobRunner
from paperdesk.gui.outbox import Outbox
from paperdesk.gui.qt import QApplication, QObject, QTimer, Signal

if TYPE_CHECKING:
    from paperdesk.core.pdf.download import PdfJob, PdfResult

STARRED_EVERY_MS = 60_000  # how often the background fetch looks for starred papers without a PDF
STARRED_FIRST_MS = 5_000  # the first look, after the desk has started
STARRED_BATCH = 5
IDLE_EXIT_S = 30.0


class PdfFetcher(QObject):
    fetched = Signal(object)  # PdfResult, on the GUI thread
    _arrived = Signal(object)  # PdfOutcome, emitted on the download thread

    def __init__(self, lib: Library, jobs: JobRunner, status: Callable[..., None], parent: QObject, *,
                 background: bool = True):
        super().__init__(parent)
        self.lib, self.jobs, self.status = lib, jobs, status
        self._queue: queue.Queue[PdfJob | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pending: set[str] = set()  # papers queued or downloading
        self._quiet: set[str] = set()  # background fetches: no status message unless it worked
        self._closed = False
        self._arrived.connect(self._store)  # connected here, on the GUI thread
        self._outbox = Outbox(self._arrived)
        QApplication.instance().aboutToQuit.connect(self.close)
        self.timer = QTimer(self, interval=STARRED_FIRST_MS)
        self.timer.timeout.connect(self._tick)
        if background:
            self.timer.start()

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def fetch(self, ids: list[str], *, quiet: bool = False) -> list[str]:
        """Queue the papers' downloads; returns one line per paper that cannot be fetched."""
        from paperdesk.core.pdf.download import plan_downloads

        fresh = [pid for pid in ids if pid not in self._pending]
        try:
            jobs, skipped = plan_downloads(self.lib, fresh)
        except LibraryError as exc:
            return [str(exc)]
        with self._lock:
            for job in jobs:
                self._pending.add(job.paper_id)
                if quiet:
                    self._quiet.add(job.paper_id)
                self._queue.put(job)
            if jobs and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._run, name="paperdesk-pdf-fetch", daemon=True)
                self._thread.start()
        return [result.summary() for result in skipped]

    def fetch_starred(self) -> None:
        """The background fetch: a few starred papers without a PDF at a time (none when the
        setting `pdf.fetch_starred` is off)."""
        if self._pending or self._closed:
            return
        from paperdesk.core.pdf.download import pdfs_to_fetch

        self.fetch(pdfs_to_fetch(self.lib, STARRED_BATCH), quiet=True)

    def _tick(self) -> None:
        self.timer.setInterval(STARRED_EVERY_MS)  # the first look comes sooner
        self.fetch_starred()

    def close(self) -> None:
        self._closed = True
        self._outbox.close()
        self.timer.stop()
        self._queue.put(None)

    # -- download thread ------------------------------------------------------------------------
    def _run(self) -> None:
        from paperdesk.core.feeds.fetch import make_client
        from paperdesk.core.pdf.download import ACCEPT_PDF, download

        client = make_client(accept=ACCEPT_PDF)
        try:
            while True:
                try:
                    job = self._queue.get(timeout=IDLE_EXIT_S)
                except queue.Empty:
                    with self._lock:
                        if self._queue.empty():
                            self._thread = None
                            return
                    continue
                if job is None:
                    return
                outcome = download(job, client, cancelled=lambda: self._closed)
                if not self._outbox.send(outcome):
                    return  # the window closed
        finally:
            client.close()

    # -- GUI thread -----------------------------------------------------------------------------
    def _store(self, outcome) -> None:
        from paperdesk.core.pdf.download import apply_download

        pid = outcome.job.paper_id
        self.jobs.write("Fetch PDF", lambda lib: apply_download(lib, outcome),
                        lambda result: self._finish(pid, result))

    def _finish(self, pid: str, result: PdfResult) -> None:
        self._pending.discard(pid)
        quiet = pid in self._quiet
        self._quiet.discard(pid)
        if not quiet or result.status == "ok":
            self.status(result.summary())
        self.fetched.emit(result)
        if self._queue.empty() and not self._pending and quiet and not self._closed:
            self.timer.start(0)  # more starred papers may be waiting: look again now
