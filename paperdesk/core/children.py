"""Spawned child processes that work for this one (index build workers, the ranker's first
featurising): started without re-running the app's main module, and ended with their parent."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import types
from typing import Any


def die_with_parent() -> None:
    """End this worker the moment its parent process ends, however it ends (kill -9 included).

    On Linux the kernel does it (PR_SET_PDEATHSIG); everywhere a thread also waits on the
    parent's sentinel (a pipe that closes when the parent dies) and exits then."""
    parent = multiprocessing.parent_process()
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if parent is None:
        return

    def wait_for_parent() -> None:
        parent.join()  # returns once the parent's sentinel closes
        os._exit(1)

    threading.Thread(target=wait_for_parent, name="paperdesk-parent-watch", daemon=True).start()


def start_spawned(procs: list[Any]) -> None:
    """Start spawned processes without their importing the app's main module: spawn runs it again
    in each child (as `__mp_main__`), and `python -m paperdesk` or a script without a main guard
    would then run again there. The workers need nothing from it."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        for proc in procs:
            proc.start()
    finally:
        if main is not None:
            sys.modules["__main__"] = main
