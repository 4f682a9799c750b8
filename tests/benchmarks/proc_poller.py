"""Polls a process's threads as the kernel sees them, from outside (no GIL): a diagnosis for
stalls that an in-process sampler cannot see because it waits for the GIL too.

    python tests/benchmarks/proc_poller.py PID OUT [--every-ms 2]

Writes one line per poll to OUT until PID ends or OUT's folder holds a file named `stop`:
`monotonic_s cpu-line-of-/proc/stat | tid:state:utime+stime:wchan ...` (the machine's CPU
counters: user nice system idle iowait irq softirq steal). `read_polls` reads it back.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def poll(pid: int) -> str:
    with open("/proc/stat") as f:
        cpu = f.readline().split()[1:9]
    threads = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/task/{tid}/wchan") as f:
                wchan = f.read().strip() or "-"
        except OSError:
            continue
        threads.append(f"{tid}:{fields[0]}:{int(fields[11]) + int(fields[12])}:{wchan}")
    return f"{time.monotonic():.4f} {' '.join(cpu)} | {' '.join(threads)}"


def read_polls(path: Path) -> list[tuple[float, list[int], dict[str, tuple[str, int, str]]]]:
    """(monotonic time, the machine's CPU counters, {tid: (state, cpu ticks, wchan)}) per poll."""
    out = []
    for line in path.read_text().splitlines():
        head, _, threads = line.partition(" | ")
        stamp, *cpu = head.split()
        table = {}
        for item in threads.split():
            tid, state, ticks, wchan = item.split(":", 3)
            table[tid] = (state, int(ticks), wchan)
        out.append((float(stamp), [int(c) for c in cpu], table))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pid", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--every-ms", type=float, default=2.0)
    args = parser.parse_args()
    stop = args.out.parent / "stop"
    with args.out.open("w") as out:
        while os.path.exists(f"/proc/{args.pid}") and not stop.exists():
            try:
                out.write(poll(args.pid) + "\n")
            except OSError:
                break
            time.sleep(args.every_ms / 1000)


if __name__ == "__main__":
    main()
