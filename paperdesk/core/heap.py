"""Keep memory the process freed for its next arrays, instead of giving it back to the system.

A search at a million papers builds whole-index arrays (8 MB each: a mask's scores, an Or's
accumulator) and frees them when it answers. glibc hands big blocks back to the system (they were
mapped on their own, or the free top of the heap passed the trim threshold), so the next search
touched fresh pages again: ~2,000 page faults an array, and on this 2-core VM the first pass of
bench_search's two-word queries had p95 65-91 ms with them and 30-52 ms without (issue 23).

Here big blocks come from the heap and up to `KEEP_FREE_BYTES` of free heap stays with the process.
RSS then holds the high-water mark of search arrays (a few dozen MB at 1M papers). Process-wide:
the desk's policy applies it once at start (`gui/gil.py`); benchmarks that measure the engine as the
desk runs it call it too. Without glibc (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
MMAP_AT_BYTES = 32 << 20  # glibc's ceiling for this setting on 64-bit systems
KEEP_FREE_BYTES = 256 << 20


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 (glibc's own: musl has neither)
    except (OSError, AttributeError):
        return None
    return libc


def keep_freed_memory() -> bool:
    """Set the allocator's thresholds for this process; False where there is no glibc."""
    libc = _glibc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_AT_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, KEEP_FREE_BYTES))


def release_freed_memory() -> None:
    """Give the heap's free pages back to the system now, whatever the thresholds: after work that
    is rare and big (the interest model's first load and training free many megabytes of
    temporaries; 100k papers: ~150 MB resident after a load without this, ~95 with it)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
