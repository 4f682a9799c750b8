"""core/heap.py: memory a search freed stays with the process for the next search's arrays."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

# In its own process: the setting is process-wide and cannot be taken back.
FREE_SIX_ARRAYS = """
import os, sys
import numpy as np
if sys.argv[1] == "policy":
    from paperdesk.core.heap import keep_freed_memory
    assert keep_freed_memory()
elif sys.argv[1] == "desk":
    from paperdesk.gui.gil import apply_process_policy
    apply_process_policy()  # what the desk's make_app applies
elif sys.argv[1] == "released":
    from paperdesk.core.heap import keep_freed_memory, release_freed_memory
    assert keep_freed_memory()
def resident():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
arrays = [np.ones(1_000_000) for _ in range(6)]  # six whole-index arrays at 1M papers: 48 MB
held = resident()
del arrays
if sys.argv[1] == "released":
    release_freed_memory()  # after the ranker's rare big work: back to the system all the same
print(held - resident())
"""


def _given_back(mode: str) -> int:
    """Bytes of resident memory the process gave back when it freed six 8 MB arrays."""
    out = subprocess.run([sys.executable, "-c", FREE_SIX_ARRAYS, mode], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    return int(out.stdout)


needs_glibc = pytest.mark.skipif(
    not Path("/proc/self/statm").exists() or platform.libc_ver()[0] != "glibc",
    reason="the setting is glibc's; resident memory is read from /proc")


@needs_glibc
def test_freed_search_arrays_stay_for_the_next_search():
    assert _given_back("default") > 40 << 20  # glibc unmaps them: the next search faults them in again
    assert _given_back("policy") < 4 << 20


@needs_glibc
def test_the_desk_keeps_freed_memory():
    pytest.importorskip("PySide6")
    assert _given_back("desk") < 4 << 20


@needs_glibc
def test_memory_kept_for_searches_is_given_back_after_rare_big_work():
    assert _given_back("released") > 40 << 20
