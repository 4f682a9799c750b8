"""Export commands: `paperdesk export markdown DIR` and `paperdesk export bibtex FILE`."""

from __future__ import annotations

import argparse
import sys

from paperdesk.cli.output import CommandError, open_library, print_json, progress_line


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export papers to Markdown notes or BibTeX")
    kinds = p.add_subparsers(dest="export_kind", metavar="FORMAT", required=True)

    m = kinds.add_parser("markdown", help="one Markdown file per paper (or one reading list); "
                         "re-exporting keeps your edits outside PaperDesk's marked blocks")
    m.add_argument("folder", metavar="DIR")
    _selection_args(m)
    m.add_argument("--one-file", metavar="NAME", help="write one reading-list file NAME.md instead")
    m.add_argument("--template", metavar="T",
                   help="a Jinja2 template: a name in the config dir's templates folder, or a path")
    m.add_argument("--dry-run", action="store_true", help="list what would change; write nothing")
    m.add_argument("--json", action="store_true", help="print a JSON report")
    m.set_defaults(func=cmd_markdown)

    b = kinds.add_parser("bibtex", help="a BibTeX file of the selected papers")
    b.add_argument("file", metavar="FILE")
    _selection_args(b)
    b.add_argument("--unicode", choices=["keep", "latex"], default="keep",
                   help="keep Unicode characters (biber, XeLaTeX) or spell them as LaTeX (default: keep)")
    b.add_argument("--key-pattern", metavar="P",
                   help="citation key pattern, e.g. '{auth}{year}{word}' (also {Auth} {Word} {id})")
    b.add_argument("--json", action="store_true", help="print a JSON report")
    b.set_defaults(func=cmd_bibtex)


def _selection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--query", metavar="Q", help="only papers matching this search")
    p.add_argument("--tag", metavar="T", help="only papers with this tag")


def select_ids(lib, args: argparse.Namespace) -> list[str]:
    """The papers to export: a search, a tag, both (papers matching both), or the whole library."""
    tag = args.tag.strip().lstrip("#") if args.tag else None
    if args.query is not None:
        if not args.query.strip():
            raise CommandError("--query is empty", code=2)
        # a typed-in query is complete: its last word is not a prefix (as when searching as you type)
        ids = [hit.id for hit in lib.search.run(args.query, limit=None, typing=False).hits]
        if tag:
            tagged = set(lib.paper_ids(tag=tag))
            ids = [i for i in ids if i in tagged]
    else:
        ids = lib.paper_ids(tag=tag)
    if not ids:
        what = " and ".join(x for x in (f"query {args.query!r}" if args.query else "",
                                         f"tag {tag!r}" if tag else "") if x)
        raise CommandError(f"no papers match {what}" if what else "the library has no papers")
    return list(dict.fromkeys(ids))


def _selection_title(args: argparse.Namespace) -> str | None:
    parts = []
    if args.query:
        parts.append(f"Search: {args.query}")
    if args.tag:
        parts.append(f"Tag: {args.tag.strip().lstrip('#')}")
    return " · ".join(parts) or None


def cmd_markdown(args: argparse.Namespace) -> int:
    from paperdesk.core.export import ExportError, export_markdown

    with open_library(args, ExportError) as lib, progress_line(not args.json) as progress:
        report = export_markdown(lib, args.folder, select_ids(lib, args), one_file=args.one_file,
                                 template=args.template, dry_run=args.dry_run, progress=progress,
                                 title=_selection_title(args) if args.one_file else None)
    if args.json:
        print_json(report.to_json())
    else:
        # the report keeps the first LISTED items of each kind (and counts them all)
        for warning in report.warnings:
            print(f"paperdesk: warning: {warning}", file=sys.stderr)
        if report.unlisted("warnings"):
            print(f"paperdesk: warning: … and {report.unlisted('warnings')} more", file=sys.stderr)
        kind = "would_change" if args.dry_run else "written"
        for item in getattr(report, kind):
            print(item.describe())
        if report.unlisted(kind):
            print(f"… and {report.unlisted(kind)} more")
        for item in report.skipped:
            print(f"paperdesk: {item.describe()}", file=sys.stderr)
        if report.unlisted("skipped"):
            print(f"paperdesk: … and {report.unlisted('skipped')} more left alone", file=sys.stderr)
        print(report.summary())
    return 0 if report.ok else 1


def cmd_bibtex(args: argparse.Namespace) -> int:
    from paperdesk.core.export import ExportError, export_bibtex

    with open_library(args, ExportError) as lib:
        report = export_bibtex(lib, select_ids(lib, args), args.file, unicode=args.unicode,
                               key_pattern=args.key_pattern)
    if args.json:
        print_json(report.to_json())
    else:
        for warning in report.warnings:
            print(f"paperdesk: warning: {warning}", file=sys.stderr)
        print(report.summary())
    return 0
