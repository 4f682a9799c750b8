"""Handing values from a plain Python thread to the GUI thread, safely while the window goes.

A worker emits a queued signal; but emitting on a QObject while the GUI thread deletes it crashes
PySide (a stress test of threads emitting while their objects were deleted: a segfault within
seconds; a test run once hung nine minutes in a plain clone). So workers send through an `Outbox`,
and its owner closes it when the window closes, before anything is deleted: `close` waits for a
send under way, and nothing is sent afterwards.
"""

from __future__ import annotations

import threading

from paperdesk.gui.qt import SignalInstance


class Outbox:
    def __init__(self, signal: SignalInstance) -> None:
        self._signal = signal
        self._lock = threading.Lock()
        self._closed = False

    def send(self, *args: object) -> bool:
        """Emit `args` (queued to the GUI thread); False once closed: the worker should stop."""
        with self._lock:
            if self._closed:
                return False
            try:
                self._signal.emit(*args)
            except RuntimeError:  # deleted without being closed first: nobody to tell
                self._closed = True
                return False
            return True

    def close(self) -> None:
        """On the GUI thread, before the receiver may be deleted."""
        with self._lock:
            self._closed = True
