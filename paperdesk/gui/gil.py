"""The desk's process-wide interpreter settings, set once on the GUI thread at start (`make_app`).

Nothing else changes them: the reader and writer threads never save or restore global settings
(two threads doing that interleaved once left full collections off for good).

How long the window can stall behind another thread is decided by two things:
- the switch interval: a thread that wants the GIL waits that long before asking the holder to
  let go, and one paint or key press enters Python several times. CPython's 5 ms becomes 1 ms
  here; a 10k-paper import on the writer thread took no longer for it.
- full (generation 2) garbage collections, which walk every tracked object with the GIL held, on
  whichever thread happens to allocate: at 100k papers 21-35 ms on the writer mid-import, 90-140
  ms before `freeze_long_lived`, ~50 ms on the reader while it opened the search index. So they
  never start by themselves: `IdleCollector` runs one on the GUI thread once the writer has been
  idle a moment. Young collections go on as usual and free most cyclic garbage.
  `freeze_long_lived` moves what is alive once the desk has started out of the collector's reach
  (`gc.freeze`); reference counting still frees those objects when they go. A young collection
  first keeps fresh cyclic garbage from being frozen for good.
"""

from __future__ import annotations

import gc
import sys

from paperdesk.core.heap import keep_freed_memory
from paperdesk.gui.qt import QObject, QTimer

SWITCH_INTERVAL_S = 0.001
NEVER = 1 << 30  # a generation-2 threshold no allocation count reaches
IDLE_COLLECT_MS = 2000  # quiet time after the last job before the full collection


def apply_process_policy() -> None:
    """The switch interval, the collector's thresholds and the allocator's (freed memory is kept
    for the next search's arrays: core/heap.py); GUI thread, at start."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)
    keep_freed_memory()


def freeze_long_lived() -> None:
    gc.collect(1)
    gc.freeze()


class IdleCollector(QObject):
    """The desk's full collections: on the GUI thread, `delay_ms` after the last `poke()`."""

    def __init__(self, parent: QObject | None = None, delay_ms: int = IDLE_COLLECT_MS):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.collect)

    def poke(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def collect(self) -> None:
        gc.collect()
