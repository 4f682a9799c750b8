"""Export of a big view: time and peak memory (VmHWM) of a BibTeX or Markdown export of the Inbox.

    python tests/benchmarks/bench_export.py --library COPY [--kind bibtex|markdown] [--n N] --out DIR
        [--again]

COPY is a library folder to open (a copy of bench_search's 1M one: opening migrates it, so never the
kept original); N takes the Inbox's first N ids (0: all of it, 666,667 at 1M). Issue 23's goal: an
export's memory bounded whatever the number of papers (RSS <= 500 MB at 1M). Prints the peak before
the export (opening the library, reading the ids) and after it, and a pure-Python loop's time.
--again exports a second time into the same folder (a Markdown re-export reads the manifest and
every file; the peak is reset first, so it is the re-export's own). DIR is not deleted: use a
temporary folder and remove it (100k Markdown files take ~1 GB).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def vm(name: str) -> int:
    """This process's /proc status value `name` in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) // 1024
    return -1


def loop_s() -> float:
    started = time.perf_counter()
    sum(range(20_000_000))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--library", type=Path, required=True)
    parser.add_argument("--kind", choices=["bibtex", "markdown"], default="bibtex")
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="folder for the .bib or the Markdown files")
    parser.add_argument("--again", action="store_true", help="export a second time into the same folder")
    args = parser.parse_args()
    from paperdesk.core import Library
    from paperdesk.core.export import export_bibtex, export_markdown

    print(f"loop {loop_s():.2f} s")
    lib = Library.open(args.library)
    ids = lib.paper_ids(status="inbox")
    ids = ids[:args.n] if args.n else ids
    print(f"{len(ids):,} Inbox ids; peak so far {vm('VmHWM'):,} MB")
    started = time.perf_counter()
    if args.kind == "bibtex":
        args.out.mkdir(parents=True, exist_ok=True)
        summary = export_bibtex(lib, ids, args.out / "inbox.bib").summary()
    else:
        summary = export_markdown(lib, args.out, ids).summary()
    print(f"{summary}\n{args.kind}: {time.perf_counter() - started:.1f} s, peak RSS {vm('VmHWM'):,} MB "
          f"(now {vm('VmRSS'):,} MB); loop {loop_s():.2f} s")
    if args.again:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        print(f"again from {vm('VmHWM'):,} MB")
        started = time.perf_counter()
        if args.kind == "bibtex":
            summary = export_bibtex(lib, ids, args.out / "inbox.bib").summary()
        else:
            summary = export_markdown(lib, args.out, ids).summary()
        print(f"{summary}\n{args.kind} again: {time.perf_counter() - started:.1f} s, peak RSS "
              f"{vm('VmHWM'):,} MB (now {vm('VmRSS'):,} MB); loop {loop_s():.2f} s")
    lib.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
