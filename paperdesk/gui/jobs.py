"""One background-job abstraction (like Anki's CollectionOp) and the single writer thread.

A job is `fn(lib, progress, cancelled) -> result`, run on ONE worker QThread that owns its own
`Library.open(same folder)` connection (sqlite3 objects belong to their thread; WAL lets the GUI read
meanwhile). Progress, the result or the error, and the `Changes` the job made reach the GUI thread by
queued signals, so the GUI's model refreshes exactly as if the change had been made on its side.

Search indexing is deferred: the writer's library does not index inside an import; after each job
the worker has the queued papers indexed by a child process (`paperdesk index update`),
polling it from its event loop. Whoosh is pure Python with long C calls (sorting a segment's
postings) and a full GC amid 10^6 posting tuples: in-process that held the GIL 50-300 ms at 100k
papers; in a process of its own it cannot stall the GUI at all. The index and its queue are
crash-safe, so the child needs no coordination beyond Whoosh's own write lock. A failing child
falls back to small in-process slices.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from paperdesk.core import Library, LibraryError
from paperdesk.core.changes import Changes
from paperdesk.gui.qt import QObject, Qt, QThread, QTimer, Signal, Slot

Progress = Callable[[int, int, str], None]
JobFn = Callable[[Library, Progress, Callable[[], bool]], object]

_ids = itertools.count(1)
SLICE = 100  # papers indexed per step between jobs (in-process fallback)
SLICE_PAUSE_MS = 2  # back to the event loop between slices: the GUI thread gets the GIL
POLL_MS = 50  # how often the writer looks at the indexer process
INDEXED = re.compile(r"^indexed (\d+) papers$", re.M)  # the last line of `paperdesk index update`


def indexer_command(folder: Path) -> list[str]:
    """`paperdesk index update` as a child process (a frozen app is its own `paperdesk`)."""
    program = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "paperdesk"]
    return [*program, "--library", str(folder), "index", "update", "--background"]


@dataclass(eq=False)
class Job:
    label: str
    fn: JobFn
    on_success: Callable[[object], None] | None = None
    on_failure: Callable[[str], None] | None = None
    # A user's own small write (star, tag, note…): not shown as background work, and not stopped
    # by Cancel, which is for long jobs.
    quiet: bool = False
    id: int = field(default_factory=lambda: next(_ids))
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


class _Worker(QObject):
    """Lives on the writer thread; owns that thread's Library connection."""

    progress = Signal(object, int, int, str)  # job, done, total, what
    done = Signal(object, object, object)  # job, result, Changes
    failed = Signal(object, str, object)  # job, message, Changes made before the failure
    indexed = Signal(int)  # papers indexed since the last job, once the queue is empty

    def __init__(self, folder: Path, defer_indexing: bool = True, index_process: bool = True,
                 origin: str | None = None):
        super().__init__()
        self._folder = folder
        self._origin = origin
        self._lib: Library | None = None
        self._changes = Changes()
        self._defer = defer_indexing
        self._use_process = index_process
        self._proc: subprocess.Popen | None = None
        self._proc_out: tuple | None = None
        self._scheduled = False
        self._sliced = 0
        self._rebuilding = 0  # papers in an index of another version being rebuilt by the child
        self._check_agreement = True  # once, at start: an index that disagrees is repaired by the child
        self._closed = False
        # One timer, connected here, before the worker moves to its thread: QTimer.singleShot with
        # a Python callable connects a new timer on every call, and that connect (holding the GIL)
        # deadlocked against the GUI thread destroying an object (holding Qt's signal lock, asking
        # for the GIL). Seen once in CI: the window froze for good.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._index_step)

    def _open(self) -> Library:
        if self._lib is None:
            self._lib = Library.open(self._folder)
            self._lib.subscribe(self._collect)
            self._lib.defer_indexing = self._defer  # imports leave the queue to the indexer
            if self._origin:  # the desk's jobs are the desk's own operations (undo scope)
                self._lib.origin = self._origin
        return self._lib

    def _collect(self, changes: Changes) -> None:
        self._changes = self._changes | changes

    @Slot(object)
    def run(self, job: Job) -> None:
        self._changes = Changes()
        try:
            self._open()
            if job.cancelled:
                raise JobCancelled()
            result = job.fn(self._open(), lambda d, t, w: self.progress.emit(job, d, t, w),
                            lambda: job.cancelled)
        except JobCancelled:
            self.failed.emit(job, "cancelled", self._changes)
        except LibraryError as exc:  # a refused change: its one line is the whole story
            self.failed.emit(job, str(exc), self._changes)
        except Exception as exc:  # a job's failure is reported, never kills the writer thread
            traceback.print_exc()
            self.failed.emit(job, str(exc) or type(exc).__name__, self._changes)
        else:
            self.done.emit(job, result, self._changes)
        self._schedule_index()

    def _schedule_index(self, delay: int = SLICE_PAUSE_MS) -> None:
        if self._defer and not self._scheduled and not self._closed:
            self._scheduled = True
            self._timer.start(delay)

    @Slot()
    def kick(self) -> None:
        """At start: an index of another version (or a leftover queue) is taken care of at once."""
        self._schedule_index()

    @Slot()
    def _index_step(self) -> None:
        self._scheduled = False
        if self._closed:
            return
        if self._proc is not None:
            if self._proc.poll() is None:
                self._schedule_index(POLL_MS)
                return
            self._reap()
        lib = self._open()
        try:
            exists = lib.search.exists()
            # Of another version: searching it would rebuild it first.
            stale = self._use_process and exists and not lib.search.current()
            # The child's whole drain compares index and library when they disagree (index.py).
            drifted = self._use_process and self._check_agreement and exists and \
                not lib.search.index.agrees()
            self._check_agreement = False
            if not exists or (not stale and not drifted and not lib.search.queued()):
                if self._sliced:
                    self.indexed.emit(self._sliced)
                    self._sliced = 0
                return
            if self._use_process:
                self._rebuilding = lib.count() if stale else 0
                self._spawn()
                self._schedule_index(POLL_MS)
                return
            done = lib.search.update(limit=SLICE)
        except Exception:  # the queue stays: the next job, or the next start, indexes it
            traceback.print_exc()
            return
        self._sliced += done
        if done:
            self._schedule_index()

    def _spawn(self) -> None:
        import paperdesk

        env = dict(os.environ)
        root = str(Path(paperdesk.__file__).resolve().parents[1])  # the same paperdesk as ours
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115 (closed in _reap)
        self._proc_out = (out, err)
        self._proc = subprocess.Popen(indexer_command(self._folder), stdout=out, stderr=err,
                                      stdin=subprocess.DEVNULL, env=env)

    def _reap(self) -> None:
        proc, (out, err) = self._proc, self._proc_out  # type: ignore[misc]
        self._proc = self._proc_out = None
        code = proc.wait() if proc is not None else 0
        out.seek(0)
        err.seek(0)
        text, problem = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        out.close()
        err.close()
        found = INDEXED.findall(text)
        if code == 0 and found:
            self._sliced += int(found[-1]) + self._rebuilding
        else:  # index here instead, in slices
            print(f"search indexer process failed ({code}): {problem.strip()[-500:]}", file=sys.stderr)
            self._use_process = False

    @Slot()
    def close(self) -> None:
        self._closed = True
        self._timer.stop()
        if self._proc is not None:  # let the indexer finish its commit (it is crash-safe anyway)
            try:
                self._proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._reap()
        if self._lib is not None:
            self._lib.close()  # what is still queued is indexed at the next start
            self._lib = None


class JobCancelled(Exception):
    """Raised by a job that stops early because it was cancelled."""


class JobRunner(QObject):
    """Queue of jobs for the single writer thread; signals arrive on the GUI thread."""

    started = Signal(object)  # job (long ones: not the user's quiet writes)
    progress = Signal(object, int, int, str)
    finished = Signal(object, object)  # job, result (after on_success ran)
    failed = Signal(object, str)
    changed = Signal(object)  # Changes made by a job (success or not)
    idle = Signal()
    indexed = Signal(int)  # the search index caught up (papers indexed since the last job)
    _submit = Signal(object)
    _close = Signal()
    _kick = Signal()

    def __init__(self, folder: Path, parent: QObject | None = None, *, index_process: bool = True,
                 origin: str | None = None):
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("paperdesk-writer")
        self._worker = _Worker(folder, index_process=index_process, origin=origin)
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.run)
        # Blocking: shutdown() returns only once the writer has closed its library and reaped its
        # indexer (a queued call could still be pending when the thread's loop quits).
        self._close.connect(self._worker.close, Qt.ConnectionType.BlockingQueuedConnection)
        self._worker.progress.connect(self.progress)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._worker.indexed.connect(self.indexed)
        self._kick.connect(self._worker.kick)
        self._pending: list[Job] = []
        self._thread.start()
        self._kick.emit()

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @property
    def current(self) -> Job | None:
        return self._pending[0] if self._pending else None

    def submit(self, job: Job) -> Job:
        self._pending.append(job)
        if len(self._pending) == 1 and not job.quiet:
            self.started.emit(job)
        self._submit.emit(job)  # queued: jobs run one after another on the writer thread
        return job

    def run(self, label: str, fn: JobFn, on_success: Callable[[object], None] | None = None,
            on_failure: Callable[[str], None] | None = None, *, quiet: bool = False) -> Job:
        return self.submit(Job(label, fn, on_success, on_failure, quiet=quiet))

    def write(self, label: str, fn: Callable[[Library], object], done: Callable[[object], None] | None = None,
              *, refused: type[Exception] | tuple[type[Exception], ...] = ()) -> Job:
        """A small change (a star, a tag, a note): a quiet job, one signal hop when the writer is
        idle; `done(result)` runs on the GUI thread afterwards. An exception of a `refused` type
        is handed to `done` as the result (it says why nothing changed), not reported as a failure."""
        def job(lib: Library, _progress: Progress, _cancelled: Callable[[], bool]) -> object:
            try:
                return fn(lib)
            except refused as exc:
                return exc

        return self.run(label, job, on_success=done, quiet=True)

    def cancel_all(self) -> None:
        """Cancel the long jobs; the user's own writes still run."""
        for job in self._pending:
            if not job.quiet:
                job.cancel()

    def _advance(self, job: Job) -> None:
        if job in self._pending:
            self._pending.remove(job)
        if not self._pending:
            self.idle.emit()
        elif not self._pending[0].quiet:
            self.started.emit(self._pending[0])

    def _on_done(self, job: Job, result: object, changes: Changes) -> None:
        self._advance(job)
        if changes:
            self.changed.emit(changes)
        if job.on_success:
            job.on_success(result)
        self.finished.emit(job, result)

    def _on_failed(self, job: Job, message: str, changes: Changes) -> None:
        self._advance(job)
        if changes:
            self.changed.emit(changes)
        if job.on_failure:
            job.on_failure(message)
        self.failed.emit(job, message)

    def shutdown(self) -> None:
        """Cancel the long jobs queued, let the running one stop, run the user's writes still
        queued, close the writer's connection."""
        self.cancel_all()
        if self._thread.isRunning():  # (a second shutdown finds it stopped)
            self._close.emit()
        self._thread.quit()
        self._thread.wait()
