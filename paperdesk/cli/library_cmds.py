"""Library commands: import, list, show, star/unstar, tag/untag, archive, stats, undo/redo, compact."""

from __future__ import annotations

import argparse
import sys

from paperdesk.cli.output import (
    CommandError,
    one_line,
    open_library,
    positive_int,
    print_json,
    print_json_list,
    progress_line,
    terminal_text,
)
from paperdesk.core.words import count_of

LIST_PAGE = 1000  # rows `list` reads at a time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import digest files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("list", help="list papers")
    p.add_argument("--json", action="store_true")
    p.add_argument("--status", choices=["inbox", "archived"])
    p.add_argument("--starred", action="store_true", help="only starred papers")
    p.add_argument("--tag", metavar="T")
    p.add_argument("--sort", choices=["date", "added", "upvotes", "title"], default="date")
    p.add_argument("--limit", type=positive_int, metavar="N")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="show one paper")
    p.add_argument("id")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--html", action="store_true", help="the sanitised HTML the reader pane displays")
    p.set_defaults(func=cmd_show)

    for name, value in (("star", True), ("unstar", False)):
        p = sub.add_parser(name, help=f"{name} papers")
        p.add_argument("ids", nargs="+", metavar="ID")
        p.set_defaults(func=cmd_star, value=value)

    for name in ("tag", "untag"):
        p = sub.add_parser(name, help=f"{'add' if name == 'tag' else 'remove'} tags")
        p.add_argument("id")
        p.add_argument("tags", nargs="+", metavar="TAG")
        p.set_defaults(func=cmd_tag, remove=name == "untag")

    for name, status in (("archive", "archived"), ("unarchive", "inbox")):
        p = sub.add_parser(name, help="archive papers" if status == "archived"
                           else "move papers back to the inbox")
        p.add_argument("ids", nargs="+", metavar="ID")
        p.set_defaults(func=cmd_status, status=status)

    p = sub.add_parser("stats", help="library statistics")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    for name in ("undo", "redo"):
        p = sub.add_parser(
            name, help=f"{name} the library's last {'undone ' if name == 'redo' else ''}operation",
            description=f"Names the operation, who made it and when, then asks before it is "
                        f"{name}ne (on a terminal); elsewhere --yes is required. It may have been "
                        f"made by the desk, a feed refresh or another command: a command cannot "
                        f"tell which operation was its caller's own.")
        p.add_argument("--yes", "-y", action="store_true",
                       help=f"{name} it without asking (for scripts)")
        p.set_defaults(func=cmd_undo, redo=name == "redo")

    p = sub.add_parser("compact", help="give the database's unused space back to the disk (VACUUM)",
                       description="Rewrites the database file without its unused space, e.g. what "
                                   "compressing the abstracts (schema 0015) freed inside its pages. "
                                   "Minutes at a million papers; needs free disk about the file's size.")
    p.set_defaults(func=cmd_compact)

    p = sub.add_parser("history", help="list recent operations")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=positive_int, default=20, metavar="N")
    p.set_defaults(func=cmd_history)


def cmd_import(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        with progress_line(not args.json) as progress:
            report = lib.import_paths(args.files, progress=progress)
        applied: dict[str, int] = {}
        if report.changes.added:
            from paperdesk.core.rank.rules import apply_to_new

            applied = apply_to_new(lib)
        if args.json:
            print_json({**report.to_json(), "rules": applied})
        else:
            for f in report.files:
                if f.ok:
                    print(f.summary())
                else:
                    print(f"paperdesk: {f.path}: {f.error}", file=sys.stderr)
            if len(report.files) > 1:
                print(report.summary())
            for name, count in applied.items():
                print(f"rule {name!r} acted on {count} new paper{'s' if count != 1 else ''}")
    return 0 if report.ok else 1


def cmd_list(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        ids = lib.paper_ids(status=args.status, starred=True if args.starred else None,
                            tag=args.tag, order=args.sort, limit=args.limit)
        # Rows read and printed a page at a time: the ids of a million papers fit in memory
        # (~70 MB), their rows with abstracts (~2 GB) do not.
        pages = (ids[i:i + LIST_PAGE] for i in range(0, len(ids), LIST_PAGE))
        if args.json:
            print_json_list(record for page in pages for record in lib.records(page))
            return 0
        for page in pages:
            for row in lib.rows(page):
                star = "★" if row["starred"] else " "
                date = row["published"] or "          "
                ups = f"{row['upvotes']:>4}" if row["upvotes"] is not None else "    "
                print(f"{star} {row['id']:<16} {date} {ups}  {one_line(row['title'], 90)}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        record = lib.get(args.id)
        if record is None:
            raise CommandError(f"no paper with id {args.id}")
        if args.json:
            print_json(record)
            return 0
        if args.html:
            from paperdesk.core.reader_html import paper_html

            print(paper_html(lib, record))
            return 0
        t = terminal_text
        print(one_line(record["title"], 10_000))
        meta = [record["id"]]
        if record["organization"]:
            meta.append(one_line(record["organization"], 500))
        elif record["authors"]:
            meta.append(one_line(", ".join(record["authors"]), 2_000))
        elif record["authors_count"]:
            meta.append(count_of(record["authors_count"], "author"))
        if record["published"]:
            meta.append(record["published"])
        if record["upvotes"] is not None:
            meta.append(f"{record['upvotes']} upvotes")
        meta.append(record["status"] + (", starred" if record["starred"] else ""))
        print(" · ".join(meta))
        arxiv = []
        if record["arxiv_id"]:
            arxiv.append(t(f"arXiv:{record['arxiv_id']}{record['arxiv_version'] or ''}"))
        if record["categories"]:
            arxiv.append(t(" ".join(record["categories"])))
        if record["updated_note"]:  # "v3, updated after you archived v1"
            arxiv.append(t(record["updated_note"]))
        if arxiv:
            print(" · ".join(arxiv))
        if record["tags"]:
            print("tags: " + ", ".join(t(tag) for tag in record["tags"]))
        if record["url"]:
            print(t(record["url"]))
        print()
        print(t(record["abstract"]))
        if record["note"]:
            print("\nNote:\n" + t(record["note"]))
        print("\nSources: " + "; ".join(
            t(f"{s['kind']} {s['name']}") + (f" ({s['date']})" if s["date"] else "")
            for s in record["sources"]))
    return 0


def cmd_star(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        changes = lib.star(args.ids, args.value)
        print(f"{'starred' if args.value else 'unstarred'} {len(changes.papers)} paper(s)")
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        changes = (lib.untag if args.remove else lib.tag)([args.id], args.tags)
        if not changes.papers:
            print("nothing changed")
        else:
            print(f"{'untagged' if args.remove else 'tagged'} {args.id}: {', '.join(args.tags)}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        changes = lib.set_status(args.ids, args.status)
        print(f"{'archived' if args.status == 'archived' else 'moved to inbox'} "
              f"{len(changes.papers)} paper(s)")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        stats = lib.stats()
        if args.json:
            print_json(stats)
            return 0
        print(f"library: {stats['path']}")
        print(f"papers: {stats['papers']} ({stats['inbox']} inbox, {stats['archived']} archived, "
              f"{stats['starred']} starred)")
        print(f"sources: {stats['sources']} ({stats['digests']} digests), feeds: {stats['feeds']}")
        print(f"notes: {stats['notes']}, highlights: {stats['highlights']}")
        if stats["tags"]:
            print("tags: " + ", ".join(f"{t} ({n})" for t, n in stats["tags"].items()))
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    """Undo/redo the library's last operation, whoever made it, once it is named and confirmed."""
    from paperdesk.core.library import describe_origin
    from paperdesk.core.timeutil import ago

    verb = "redo" if args.redo else "undo"
    with open_library(args) as lib:
        op = lib.last_redoable() if args.redo else lib.last_undoable()
        if op is None:
            raise CommandError(f"nothing to {verb}")
        what = f"{op.label}, {describe_origin(op.origin)} {ago(op.created_at)}"
        if not args.yes:
            if not (sys.stdin.isatty() and sys.stderr.isatty()):
                raise CommandError(f"not {verb}ne: the last {'undone ' if args.redo else ''}"
                                   f"operation is {what}; run `paperdesk {verb} --yes` to {verb} it")
            print(f"{verb.capitalize()}: {what}? [y/N] ", end="", file=sys.stderr, flush=True)
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                raise CommandError(f"not {verb}ne")
        op, _ = lib.redo(op.id) if args.redo else lib.undo(op.id)
        print(f"{'redid' if args.redo else 'undid'}: {op.label}" if op else f"nothing to {verb}")
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        print(f"compacting {lib.path} ...", file=sys.stderr, flush=True)
        before, after = lib.compact()
        print(f"compacted: {before / 1e6:,.1f} MB -> {after / 1e6:,.1f} MB")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from paperdesk.core.library import describe_origin

    with open_library(args) as lib:
        ops = lib.history(args.limit)
        if args.json:
            print_json([{"id": o.id, "kind": o.kind, "label": o.label, "at": o.created_at,
                         "undone": o.undone, "origin": o.origin} for o in ops])
            return 0
        for o in ops:
            print(f"{o.id:>5} {o.created_at} {'(undone) ' if o.undone else ''}{o.label} "
                  f"({describe_origin(o.origin)})")
    return 0
