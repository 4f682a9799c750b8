"""An event-loop heartbeat: a Qt timer every few ms, recording the gaps between its beats.

The longest gap is the longest time the GUI thread could not react (the "stall" of the issues).
"""

from __future__ import annotations

from paperdesk.gui.qt import QElapsedTimer, QTimer


class Heartbeat:
    def __init__(self, interval_ms: int = 5):
        self.gaps: list[float] = []  # ms between beats
        self._clock = QElapsedTimer()
        self._last = 0
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    def start(self) -> None:
        self._clock.start()
        self._last = self._clock.nsecsElapsed()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def longest(self) -> float:
        return max(self.gaps, default=0.0)

    def late(self) -> tuple[int, float]:
        """(The last beat, as a stamp; ms since it): from any thread, to catch a stall under way."""
        last = self._last
        return last, (self._clock.nsecsElapsed() - last) / 1e6

    def _beat(self) -> None:
        now = self._clock.nsecsElapsed()
        self.gaps.append((now - self._last) / 1e6)
        self._last = now


class StallSampler:
    """A diagnosis for benchmarks: a daemon thread that, while the GUI thread's heartbeat is late by
    more than `after_ms`, samples every thread's stack every `every_ms` (sys._current_frames). A
    stall's samples show what the GUI thread ran (or waited in) and what the others ran meanwhile
    (a thread holding the GIL shows there). `report()` lists the longest stalls' samples."""

    def __init__(self, beat: Heartbeat, after_ms: float = 25.0, every_ms: float = 5.0):
        import threading

        self.beat, self.after_ms, self.every_ms = beat, after_ms, every_ms
        self.gui = threading.get_ident()
        self.gui_native = threading.get_native_id()
        self.stalls: dict[int, list[tuple[float, dict[str, list[str]]]]] = {}  # by the beat it follows
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="stall-sampler")
        self.collections: list[str] = []  # garbage collections of 5 ms or more: they hold the GIL
        self._collecting = 0.0

    def start(self) -> None:
        import gc

        gc.callbacks.append(self._collection)
        self._thread.start()

    def stop(self) -> None:
        import gc

        gc.callbacks.remove(self._collection)
        self._stop.set()
        self._thread.join()

    def _collection(self, phase: str, info: dict) -> None:
        import threading
        import time

        if phase == "start":
            self._collecting = time.perf_counter()
            return
        took = (time.perf_counter() - self._collecting) * 1000
        if took >= 5:
            self.collections.append(f"gen {info['generation']} {took:.0f} ms on "
                                    f"{threading.current_thread().name} ({info['collected']} freed)")

    def _run(self) -> None:
        import sys
        import threading
        import traceback

        names = {}
        while not self._stop.wait(self.every_ms / 1000):
            last, late = self.beat.late()
            if late <= self.after_ms:
                continue
            names.update({t.ident: t.name for t in threading.enumerate()})
            natives = {t.ident: t.native_id for t in threading.enumerate()}
            natives[self.gui] = self.gui_native
            stacks = {}
            for ident, frame in sys._current_frames().items():
                if ident == threading.get_ident():
                    continue
                lines = [f"{_short(f.f_code.co_filename)}:{line} {f.f_code.co_name}"
                         for f, line in traceback.walk_stack(frame)]
                name = "GUI" if ident == self.gui else names.get(ident, str(ident))
                state = _kernel_state(natives.get(ident))
                stacks[f"{name} {state}"] = lines[:14] if ident == self.gui else lines[:5]
            self.stalls.setdefault(last, []).append((late, stacks))

    def report(self, worst: int = 3) -> str:
        """The `worst` longest stalls, each sample: how late, the GUI thread's stack (innermost
        first), the other threads' innermost frames."""
        ranked = sorted(self.stalls.values(), key=lambda samples: -samples[-1][0])[:worst]
        out = ["=== garbage collections of 5 ms or more: " + ("; ".join(self.collections) or "none")]
        for samples in ranked:
            out.append(f"=== a stall sampled {len(samples)} times, up to {samples[-1][0]:.0f} ms late")
            for late, stacks in samples:
                out.append(f"  -- {late:.0f} ms late")
                for name, lines in stacks.items():
                    out.append(f"     [{name}] " + " <- ".join(lines))
        return "\n".join(out)


def _short(path: str) -> str:
    return path.split("/paperdesk/")[-1].split("site-packages/")[-1]


def _kernel_state(native_id: int | None) -> str:
    """The thread's state as the kernel sees it (R running or runnable, S asleep, D waiting for
    I/O), where it waits (wchan), the system call it is in (202 futex: a lock such as the GIL;
    "running": none) and its CPU time so far (user+system ticks)."""
    if native_id is None:
        return "?"
    try:
        with open(f"/proc/self/task/{native_id}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/self/task/{native_id}/wchan") as f:
            wchan = f.read().strip() or "-"
        with open(f"/proc/self/task/{native_id}/syscall") as f:
            syscall = f.read().split(" ", 1)[0]
    except OSError:
        return "?"
    return f"({fields[0]} wchan {wchan} syscall {syscall} cpu {int(fields[11]) + int(fields[12])})"
