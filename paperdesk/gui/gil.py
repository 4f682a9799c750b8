"""Keeping the GUI thread's waits for the GIL short while the reader and writer threads run Python.

How long the window can stall behind another thread is decided by two things:
- the switch interval: a thread that wants the GIL waits that long before asking the holder to
  let go, and one paint or key press enters Python several times. CPython's 5 ms becomes 1 ms
  here; a 10k-paper import on the writer thread took no longer for it.
- full (generation 2) garbage collections, which walk every tracked object with the GIL held. At
  100k papers the desk keeps ~100k long-lived objects (modules, Qt wrappers, the search index's
  term tables): 90-140 ms, measured on the writer thread at the start of an import.
  `freeze_long_lived` moves what is alive once the desk has started out of the collector's reach
  (`gc.freeze`); reference counting still frees those objects when they go. A young collection
  first keeps fresh cyclic garbage from being frozen for good; a full one found none there at
  100k papers and held the GIL 53 ms, while the user's first view switches ran.
  During a writer job, and while the reader opens the index at start, full collections wait
  (`full_collections_postponed`).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL_S = 0.001
NEVER = 1 << 30  # a generation-2 threshold no job reaches


def prefer_gui_thread() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def freeze_long_lived() -> None:
    gc.collect(1)
    gc.freeze()


@contextmanager
def full_collections_postponed() -> Iterator[None]:
    """No full collection while a writer job runs (or the index opens at start); young ones go on.

    A 10k-paper import at 100k papers made one or two full collections on the writer thread,
    21-35 ms each with the GIL held, even with the desk's own objects frozen: they walk what the
    import keeps alive. Young collections still free the job's cyclic garbage (feed parsers
    make some); the next full one comes on its own after the job."""
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)
