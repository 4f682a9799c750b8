"""Read-only queries off the GUI thread: id lists and searches on the reader's own connection.

A request is `fn(lib) -> value` on a channel ("list", …); only the newest request of a channel
counts: older ones still queued are skipped, and results that arrive after a newer request are
dropped. A background request (warming the search index, the sidebar's counts) runs only when no
other request waits: at start the list the window shows comes first (at 1M papers it waited ~1.4 s
behind opening the index). Results reach the GUI thread by a queued signal. The thread is a plain
daemon thread (it stops by itself after a quiet spell), so a window that is merely hidden or
garbage-collected never leaves a running QThread behind; its connection is `query_only`, so it
cannot write.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from paperdesk.core import Library
from paperdesk.gui.outbox import Outbox
from paperdesk.gui.qt import QObject, Signal

IDLE_EXIT_S = 20.0  # a quiet reader closes its connection and ends; the next request restarts it
ReadFn = Callable[[Library], object]
NOW, BACKGROUND = 0, 1  # request priorities: the lower runs first, then the older


class ReaderThread(QObject):
    delivered = Signal(int, str, object, str)  # token, channel, value, error ("" when fine)
    _arrived = Signal(int, str, object, str)  # emitted on the reader thread, queued to this one

    def __init__(self, folder: Path, parent: QObject | None = None, idle_exit_s: float = IDLE_EXIT_S):
        super().__init__(parent)
        self.folder = folder
        self.idle_exit_s = idle_exit_s
        self._tokens = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._answered: dict[str, int] = {}
        self._running: dict[str, int] = {}  # the request each channel runs (set by the reader)
        self._now: tuple[str, Library] | None = None  # (channel, connection) of the request running
        self._callbacks: dict[int, tuple[str, Callable[[object, str], None]]] = {}
        self._lock = threading.Lock()
        self._queue: queue.PriorityQueue[tuple[int, int, str, ReadFn | None]] = queue.PriorityQueue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._arrived.connect(self._deliver)
        self._outbox = Outbox(self._arrived)

    # -- GUI side -------------------------------------------------------------------------------
    def submit(self, channel: str, fn: ReadFn,
               callback: Callable[[object, str], None] | None = None, *, background: bool = False) -> int:
        """Queue `fn(lib)`; `callback(value, error)` runs on the GUI thread unless superseded.
        `background`: only once no other request waits."""
        token = next(self._tokens)
        with self._lock:
            self._latest[channel] = token
            if callback is not None:
                self._callbacks[token] = (channel, callback)
            # Under the lock: an idle reader cannot miss it.
            self._queue.put((BACKGROUND if background else NOW, token, channel, fn))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="paperdesk-reader", daemon=True)
                self._thread.start()
        return token

    def supersede(self, channel: str, *, stop_running: bool = False) -> None:
        """Forget what is pending on `channel` (a newer answer was computed elsewhere); with
        `stop_running`, also stop its request running now, if any: its SQL is interrupted
        (sqlite3's interrupt, meant to be called from another thread) and it ends with an error
        nobody hears."""
        with self._lock:
            self._latest[channel] = self._answered[channel] = next(self._tokens)
            if stop_running and self._now is not None and self._now[0] == channel:
                self._now[1].interrupt()

    def pending(self, channel: str) -> bool:
        """Whether the newest request of `channel` has not been answered yet."""
        with self._lock:
            return self._latest.get(channel, 0) > self._answered.get(channel, 0)

    def superseded(self, channel: str) -> bool:
        """Inside a request of `channel`, on the reader thread: whether a newer one was asked for
        since it started (its answer will be dropped, so the rest of its work can be skipped)."""
        with self._lock:
            return self._latest.get(channel, 0) > self._running.get(channel, 0)

    def _deliver(self, token: int, channel: str, value: object, error: str) -> None:
        with self._lock:
            fresh = self._latest.get(channel) == token
            entry = self._callbacks.pop(token, None)
            for stale in [t for t, (ch, _cb) in self._callbacks.items() if ch == channel and t < token]:
                self._callbacks.pop(stale, None)
            if fresh:
                self._answered[channel] = token
        if not fresh or self._closed:
            return
        if entry is not None:
            entry[1](value, error)
        self.delivered.emit(token, channel, value, error)

    def close(self) -> None:
        self._closed = True
        self._outbox.close()
        self._queue.put((-1, 0, "", None))  # ahead of anything still queued

    # -- reader thread --------------------------------------------------------------------------
    def _run(self) -> None:
        lib: Library | None = None
        try:
            while True:
                try:
                    item = self._queue.get(timeout=self.idle_exit_s)
                except queue.Empty:
                    with self._lock:  # exit only if nothing slipped in meanwhile
                        if self._queue.empty():
                            self._thread = None
                            return
                    continue
                _priority, token, channel, fn = item
                if fn is None:
                    return
                with self._lock:
                    if self._latest.get(channel) != token:
                        continue  # superseded while queued
                    self._running[channel] = token
                try:
                    if lib is None:
                        lib = Library.open_reader(self.folder)
                    with self._lock:
                        self._now = (channel, lib)
                    value, error = fn(lib), ""
                except Exception as exc:  # reported to the GUI as a message, never kills the reader
                    value, error = None, str(exc) or type(exc).__name__
                finally:
                    with self._lock:
                        self._now = None
                if not self._outbox.send(token, channel, value, error):
                    return  # closed: nobody to tell
        finally:
            if lib is not None:
                lib.close()
