"""Keeping the GUI thread's waits for the GIL short while the reader and writer threads run Python.

How long the window can stall behind another thread is decided by two things:
- the switch interval: a thread that wants the GIL waits that long before asking the holder to
  let go, and one paint or key press enters Python several times. CPython's 5 ms becomes 1 ms
  here; a 10k-paper import on the writer thread took no longer for it.
- full (generation 2) garbage collections, which walk every tracked object with the GIL held. At
  100k papers the desk keeps ~100k long-lived objects (modules, Qt wrappers, the search index's
  term tables): 90-140 ms, measured on the writer thread at the start of an import.
  `freeze_long_lived` moves what is alive once the desk has started out of the collector's reach
  (`gc.freeze`); reference counting still frees those objects when they go. A collection first
  (once, at start, on the reader thread) keeps cyclic garbage from being frozen for good.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.001


def prefer_gui_thread() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def freeze_long_lived() -> None:
    gc.collect()
    gc.freeze()
