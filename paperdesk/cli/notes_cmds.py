"""Notes and highlights from the shell: `note`, `highlight`, `highlights`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paperdesk.cli.output import CommandError, one_line, open_library, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("note", help="print or replace a paper's Markdown note")
    p.add_argument("id")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--set", metavar="TEXT", help="replace the note with TEXT")
    group.add_argument("--file", metavar="F", help="replace the note with the contents of F ('-' = stdin)")
    group.add_argument("--history", action="store_true", help="list saved revisions")
    group.add_argument("--restore", type=int, metavar="REV", help="restore revision REV")
    p.add_argument("text", nargs="?", help="'-' reads the new note from standard input")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_note)

    p = sub.add_parser("highlight", help="highlight a quote in a paper's abstract or title")
    p.add_argument("id")
    p.add_argument("quote")
    p.add_argument("--color", default="yellow")
    p.add_argument("--comment", default="")
    p.add_argument("--title", action="store_true", help="highlight in the title, not the abstract")
    p.set_defaults(func=cmd_highlight)

    p = sub.add_parser("highlights", help="list highlights (of one paper, or all)")
    p.add_argument("id", nargs="?")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_highlights)


def _new_text(args: argparse.Namespace) -> str | None:
    if args.set is not None:
        return args.set
    source = args.file if args.file is not None else args.text
    if source is None:
        return None
    if source == "-":
        return sys.stdin.read()
    if args.file is None:
        raise CommandError("use --set TEXT, --file F or '-' to replace the note", code=2)
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{source}: cannot read the note ({exc})") from None


def cmd_note(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        if args.history:
            revisions = lib.notes.history(args.id)
            if args.json:
                print_json([{"id": r.id, "saved_at": r.saved_at, "body": r.body} for r in revisions])
            else:
                for r in revisions:
                    print(f"{r.id:>6} {r.saved_at} {one_line(r.body, 80) or '(empty)'}")
            return 0
        if args.restore is not None:
            lib.notes.restore(args.id, args.restore)
            print(f"restored revision {args.restore} of the note of {args.id}")
            return 0
        text = _new_text(args)
        if text is None:
            body = lib.notes.get(args.id)
            if args.json:
                print_json({"id": args.id, "note": body})
            elif body:
                print(body, end="" if body.endswith("\n") else "\n")
            return 0
        changes = lib.notes.set(args.id, text)
        print(f"saved the note of {args.id}" if changes else "note unchanged")
    return 0


def cmd_highlight(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        hid, _ = lib.highlights.add_quote(args.id, args.quote, color=args.color, comment=args.comment,
                                          field="title" if args.title else "abstract")
        print(f"highlight {hid} added to {args.id}")
    return 0


def cmd_highlights(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        items = lib.highlights.of(args.id)
        if args.json:
            print_json([h.__dict__ for h in items])
            return 0
        for h in items:
            comment = f"  — {h.comment}" if h.comment else ""
            where = f" ({h.where()})" if h.where() else ""
            print(f"{h.id:>5} {h.paper_id:<14} [{h.color}] “{one_line(h.quote, 70)}”{where}{comment}")
    return 0
