"""Search commands: search, similar, index check|rebuild, saved add|list|rm."""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import TYPE_CHECKING

from paperdesk.cli.output import one_line, open_library, positive_int, print_json, progress_line

if TYPE_CHECKING:
    from paperdesk.core import Library


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="search papers (words, \"phrases\", -word, OR, field:, is:, sort:)")
    p.add_argument("query", nargs="*", metavar="QUERY", help="the query (several words are joined)")
    p.add_argument("--json", action="store_true", help="print records with score and snippet")
    p.add_argument("--limit", type=positive_int, default=50, metavar="N")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("similar", help="papers most like one paper, with the words they share")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=positive_int, default=10, metavar="N")
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("index", help="check or rebuild the search index")
    isub = p.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    c = isub.add_parser("check", help="compare index and library and repair differences")
    c.add_argument("--json", action="store_true")
    c.add_argument("--no-repair", action="store_true", help="only report")
    c.set_defaults(func=cmd_index_check)
    c = isub.add_parser("rebuild", help="rebuild the index from scratch")
    c.set_defaults(func=cmd_index_rebuild)
    c = isub.add_parser("update", help="index the papers changed since the last update (for cron)")
    c.add_argument("--background", action="store_true",
                   help="at low CPU priority, behind anything interactive (the desk runs it so)")
    c.set_defaults(func=cmd_index_update)

    p = sub.add_parser("saved", help="saved searches")
    ssub = p.add_subparsers(dest="saved_command", metavar="ACTION", required=True)
    c = ssub.add_parser("add", help="save a query under a name (replaces one of that name)")
    c.add_argument("name")
    c.add_argument("query", nargs="+", metavar="QUERY")
    c.set_defaults(func=cmd_saved_add)
    c = ssub.add_parser("list", help="list saved searches")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_saved_list)
    c = ssub.add_parser("rm", help="remove a saved search")
    c.add_argument("name")
    c.set_defaults(func=cmd_saved_rm)


def _say_messages(lib: Library) -> None:
    for message in lib.search.messages():
        print(f"paperdesk: {message}", file=sys.stderr)


def _terminal(snippet: str) -> str:
    import html

    return html.unescape(re.sub(r"</?b>", "*", snippet))


def cmd_search(args: argparse.Namespace) -> int:
    text = " ".join(args.query)
    with open_library(args) as lib:
        result = lib.search.run(text, limit=args.limit, typing=False)
        _say_messages(lib)
        scores = {h.id: h for h in result.hits}
        if args.json:
            hits = []
            for record in lib.records([h.id for h in result.hits]):
                hit = scores[record["id"]]
                hits.append({**record, "score": hit.score, "snippet": hit.snippet})
            print_json({"query": text, "total": result.total, "sort": result.sort,
                        "problems": result.problems, "suggestion": result.suggestion, "hits": hits})
            return 0
        for problem in result.problems:
            print(f"paperdesk: note: {problem}", file=sys.stderr)
        for row in lib.rows([h.id for h in result.hits]):
            hit = scores[row["id"]]
            star = "★" if row["starred"] else " "
            date = row["published"] or "          "
            print(f"{star} {row['id']:<16} {date} {hit.score:7.2f}  {one_line(row['title'], 80)}")
            if hit.snippet:
                print(f"    {one_line(_terminal(hit.snippet), 110)}")
        shown = len(result.hits)
        if result.total == 0 and result.suggestion:
            print(f"no papers match; did you mean: {result.suggestion}")
        elif result.total > shown:
            print(f"{shown} of {result.total} papers (use --limit to see more)")
        else:
            print(f"{result.total} paper{'s' if result.total != 1 else ''}")
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        pairs = lib.search.similar(args.id, limit=args.limit)
        _say_messages(lib)
        if args.json:
            records = {r["id"]: r for r in lib.records([h.id for h, _ in pairs])}
            print_json([{**records[h.id], "score": h.score, "snippet": h.snippet, "terms": terms}
                        for h, terms in pairs if h.id in records])
            return 0
        rows = {r["id"]: r for r in lib.rows([h.id for h, _ in pairs])}
        for hit, terms in pairs:
            print(f"{hit.id:<16} {hit.score:7.2f}  {one_line(rows[hit.id]['title'], 80)}")
            print(f"    shares: {', '.join(terms)}")
        if not pairs:
            print("no similar papers")
    return 0


def cmd_index_check(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        with progress_line() as progress:
            report = lib.search.check(repair=not args.no_repair, progress=progress)
        _say_messages(lib)
        if args.json:
            print_json(report)
        else:
            print(f"index: {report['documents']} documents for {report['papers']} papers; "
                  f"missing {len(report['missing'])}, stale {len(report['stale'])}, "
                  f"orphan {len(report['orphan'])}, queued {report['queued']}")
            if report["repaired"]:
                print(f"repaired: re-indexed {report['repaired']} papers")
            elif report["ok"]:
                print("the index matches the library")
    return 0 if report["ok"] or report["repaired"] else 1


def cmd_index_rebuild(args: argparse.Namespace) -> int:
    import time

    with open_library(args) as lib:
        start = time.perf_counter()
        with progress_line() as progress:
            count = lib.search.rebuild(progress=progress)
        _say_messages(lib)
        print(f"rebuilt the search index: {count} papers in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_index_update(args: argparse.Namespace) -> int:
    # The desk runs this in a child process after each job and reads the count from the last line.
    if args.background:
        lower_priority()
    with open_library(args) as lib:
        _extract_pdf_texts(lib)
        lib.search.index.ix  # noqa: B018 (opening rebuilds an index of another version or a damaged one)
        count = lib.search.update()
        _say_messages(lib)
        print(f"indexed {count} papers", flush=True)
        try:  # small segments, once the papers are searchable (index.MERGE_BASE)
            lib.search.index.merge()
        except OSError as exc:  # optional work: the papers are in; the next update tries again
            from paperdesk.core.failures import summary

            print(f"paperdesk: note: small index segments not merged: {summary(exc)}", file=sys.stderr)
    return 0


def _extract_pdf_texts(lib: Library) -> None:
    """PDFs whose text is not read yet (new, or left by a crash): read here, in the desk's indexer
    child, so extraction never runs in the desk's process. Cheap when there are none."""
    if lib.conn.execute("SELECT 1 FROM pdfs WHERE text_state = 'pending' LIMIT 1").fetchone() is None:
        return
    from paperdesk.core.pdf import fulltext

    report = fulltext.extract_pending(lib)
    print(f"read the text of {len(report.done)} PDFs")


BACKGROUND_NICENESS = 10


def lower_priority() -> None:
    """Run behind the desk: the indexer works for tens of seconds after an import, and on a
    2-CPU machine it competes with the desk's threads for the CPUs; the window comes first.
    Niceness is inherited by the rebuild's worker processes."""
    if hasattr(os, "nice"):  # not on Windows: there the indexer runs at normal priority
        try:
            os.nice(BACKGROUND_NICENESS)
        except OSError:
            pass


def cmd_saved_add(args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    with open_library(args) as lib:
        from paperdesk.core.search.querylang import parse

        problems = parse(query, typing=False).problems
        for problem in problems:
            print(f"paperdesk: note: {problem}", file=sys.stderr)
        changes = lib.search.save(args.name, query)
        print(f"saved {args.name!r}: {query}" if changes else f"{args.name!r} was already saved")
    return 0


def cmd_saved_list(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        saved = lib.search.saved()
        if args.json:
            print_json([{"name": n, "query": q} for n, q in saved])
            return 0
        width = max((len(n) for n, _ in saved), default=0)
        for name, query in saved:
            print(f"{name:<{width}}  {query}")
    return 0


def cmd_saved_rm(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        lib.search.remove_saved(args.name)
        print(f"removed saved search {args.name!r}")
    return 0
