"""`paperdesk import-arxiv FILE`: the arXiv metadata snapshot into the library, resumable."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from paperdesk.cli.output import open_library, print_json, progress_line


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-arxiv", help="import the arXiv metadata snapshot (JSON lines); "
                       "run again to continue after a stop")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--category", action="append", default=[], metavar="PATTERN",
                   help="only papers in a matching category (cs.CL, cs.*; repeat for more)")
    p.add_argument("--since", type=_date, metavar="DATE", help="only papers updated on or after DATE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import_arxiv)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date like 2024-01-31: {text!r}") from None


def cmd_import_arxiv(args: argparse.Namespace) -> int:
    from paperdesk.core.arxiv_snapshot import Filters, SnapshotError, import_snapshot

    with open_library(args, SnapshotError) as lib:
        try:
            with progress_line(not args.json, percent=True) as progress:
                report = import_snapshot(lib, args.file, Filters(args.category, args.since),
                                         progress=progress)
        except KeyboardInterrupt:
            print("stopped; run the same command again to continue", file=sys.stderr)
            return 130
    if args.json:
        print_json(report.to_json())
        return 0
    print(report.summary())
    for line, reason in report.bad_lines[:20]:
        print(f"paperdesk: {args.file}:{line}: {reason}", file=sys.stderr)
    if report.bad > 20:
        print(f"paperdesk: … {report.bad - 20} more bad lines (--json lists the first 50)", file=sys.stderr)
    if report.new:
        print("search index: run `paperdesk index update` (or open the desk) to make them searchable")
    return 0
