"""arXiv ids and PDFs from the shell: `resolve`, `set-arxiv`, `pdf fetch|attach|import|text|show`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paperdesk.cli.output import CommandError, open_library, print_json, progress_line


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("resolve", help="find missing arXiv ids by exact title through the arXiv API")
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--all", action="store_true", help="every paper without an arXiv id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_resolve)

    p = sub.add_parser("set-arxiv", help="set or correct a paper's arXiv id by hand ('' clears it)")
    p.add_argument("id")
    p.add_argument("arxiv_id")
    p.set_defaults(func=cmd_set_arxiv)

    p = sub.add_parser("pdf", help="papers' PDFs: fetch, attach, import a folder, extract text, show")
    pdf = p.add_subparsers(dest="pdf_command", metavar="ACTION", required=True)
    q = pdf.add_parser("fetch", help="download papers' PDFs into the library (arXiv, or a feed's PDF link)")
    q.add_argument("ids", nargs="*", metavar="ID")
    q.add_argument("--starred", action="store_true", help="the starred papers that have no PDF yet")
    q.add_argument("--password", help="the password of an encrypted PDF (kept decrypted in the library, "
                                      "so its text is searchable)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_pdf_fetch)
    q = pdf.add_parser("attach", help="keep a local PDF file as a paper's PDF")
    q.add_argument("id")
    q.add_argument("file")
    q.add_argument("--password", help="the password of an encrypted PDF (kept decrypted in the library)")
    q.set_defaults(func=cmd_pdf_attach)
    q = pdf.add_parser("import", help="attach the PDFs of a folder, matched by arXiv id or exact title")
    q.add_argument("folder")
    q.add_argument("--password", help="the password of its encrypted PDFs (kept decrypted in the library)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_pdf_import)
    q = pdf.add_parser("text", help="extract the text of PDFs not yet searchable (the desk does it "
                                    "in the background)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_pdf_text)
    q = pdf.add_parser("show", help="where a paper's PDF is and whether its text is searchable")
    q.add_argument("id")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_pdf_show)
    q = pdf.add_parser("settings", help="show the PDF and arXiv settings, or keep one in the library "
                                        "('' for its default)")
    q.add_argument("name", nargs="?", help="arxiv_api, arxiv_pdf, host_interval (s, every host's default), "
                                           "host_interval:<host> (s, one host's own), max_pdf_mb, "
                                           "timeout (s) or fetch_starred (on/off)")
    q.add_argument("value", nargs="?")
    q.set_defaults(func=cmd_pdf_settings)


def cmd_resolve(args: argparse.Namespace) -> int:
    from paperdesk.core.pdf import arxiv

    if not args.ids and not args.all:
        raise CommandError("name papers to resolve, or --all", code=2)
    with open_library(args) as lib, progress_line() as progress:
        results = arxiv.resolve_ids(lib, None if args.all else args.ids, progress=progress)
    if args.json:
        print_json([r.to_json() for r in results])
    else:
        for r in results:
            print(r.summary())
        counts = {s: sum(r.state == s for r in results) for s in ("resolved", "unmatched", "error")}
        print(f"{counts['resolved']} resolved, {counts['unmatched']} without an exact match, "
              f"{counts['error']} failed")
    return 1 if any(r.state == "error" for r in results) else 0


def cmd_set_arxiv(args: argparse.Namespace) -> int:
    from paperdesk.core.pdf import arxiv

    with open_library(args) as lib:
        changes = arxiv.set_arxiv_id(lib, args.id, args.arxiv_id)
        record = lib.get(args.id)
    if not changes:
        print(f"{args.id}: unchanged")
    elif record and record["arxiv_id"]:
        print(f"{args.id}: arXiv id set to {record['arxiv_id']}{record['arxiv_version'] or ''} "
              "(undo with `paperdesk undo`)")
    else:
        print(f"{args.id}: arXiv id cleared (undo with `paperdesk undo`)")
    return 0


def cmd_pdf_fetch(args: argparse.Namespace) -> int:
    from paperdesk.core.pdf import download, fulltext

    if not args.ids and not args.starred:
        raise CommandError("name papers whose PDF to fetch, or --starred", code=2)
    with open_library(args) as lib:
        ids = list(args.ids) + (download.pdfs_to_fetch(lib, asked=True) if args.starred else [])
        if not ids and args.json:
            print_json([])
            return 0
        if not ids:
            print("No starred paper waits for its PDF (one that failed waits out its backoff; "
                  "`paperdesk pdf fetch ID` asks now)")
            return 0
        with progress_line() as progress:
            results = download.fetch_pdfs(lib, ids, progress=progress)
        if args.password:
            _decrypt_fetched(lib, results, args.password)
        states = {}
        if any(r.status == "ok" for r in results):
            report = fulltext.extract_pending(lib)
            states = report.failed
    if args.json:
        print_json([{**r.to_json(), "text": states.get(r.paper_id, "done" if r.status == "ok" else None)}
                    for r in results])
    else:
        for r in results:
            line = r.summary()
            if r.paper_id in states and not r.encrypted:
                line += f"; {fulltext.state_word(states[r.paper_id])}"
            print(line, file=sys.stdout if r.status in ("ok", "not-modified") else sys.stderr)
    return 1 if any(r.status in ("error", "skipped") for r in results) else 0


def _decrypt_fetched(lib, results: list, password: str) -> None:
    """Each fetched (or already kept) encrypted PDF replaced by its decrypted copy (undoable); a
    wrong password leaves it encrypted and makes its result an error."""
    from paperdesk.core.pdf import files

    for r in results:
        row = files.pdf_row(lib, r.paper_id) if r.status in ("ok", "not-modified") else None
        if row is None or row["text_state"] != "encrypted":
            continue
        try:
            facts, _ = files.decrypt_kept(lib, r.paper_id, password)
        except files.PdfNeedsPassword:
            r.status, r.error = "error", "wrong password: the PDF is kept encrypted (not searchable)"
            continue
        except files.PdfRejected as exc:
            r.status, r.error = "error", f"cannot decrypt its PDF ({exc})"
            continue
        r.status, r.encrypted, r.pages, r.size = "ok", False, facts.pages, facts.size


def cmd_pdf_attach(args: argparse.Namespace) -> int:
    from paperdesk.core.pdf import files, fulltext
    from paperdesk.core.pdf import settings as pdf_settings

    with open_library(args) as lib:
        try:
            facts, _ = files.attach(lib, args.id, Path(args.file), password=args.password,
                                    max_bytes=pdf_settings.load(lib).max_pdf_bytes)
        except files.PdfNeedsPassword as exc:
            problem = ": wrong password; nothing changed" if exc.wrong_password else \
                " is encrypted: pass --password or attach it in the desk"
            raise CommandError(args.file + problem) from None
        except files.PdfRejected as exc:
            raise CommandError(f"{args.file}: {exc}; nothing changed") from None
        state = fulltext.extract_one(lib, args.id)
    print(f"{args.id}: {args.file} attached ({files.pages_text(facts.pages)}); {fulltext.state_word(state)} "
          "(undo with `paperdesk undo`)")
    return 0


def cmd_pdf_import(args: argparse.Namespace) -> int:
    from paperdesk.core.pdf import files, fulltext, importdir

    with open_library(args, files.PdfRejected) as lib:
        with progress_line() as progress:
            report = importdir.import_dir(lib, Path(args.folder), password=args.password, progress=progress)
        fulltext.extract_pending(lib)
    if not report.files:  # one line, not an empty report above it
        raise CommandError(f"{args.folder}: no PDF files in it; nothing changed")
    if args.json:
        print_json(report.to_json())
    else:
        for f in report.matched:
            print(f"{f.file}: attached to {f.paper_id} (by {f.how})")
        for f in report.unmatched:
            if f.encrypted and f.error and "wrong password" not in f.error:
                print(f"{f.file} is encrypted: pass --password or attach it in the desk")
            else:
                print(f"{f.file}: not attached: {f.error}")
        print(f"{len(report.matched)} matched, {len(report.unmatched)} not matched")
    return 0 if report.matched else 1  # every file refused: say so to scripts too


def cmd_pdf_text(args: argparse.Namespace) -> int:
    from paperdesk.core.pdf import fulltext

    with open_library(args) as lib, progress_line() as progress:
        report = fulltext.extract_pending(lib, progress=progress)
    if args.json:
        print_json({"done": report.done, "failed": report.failed})
    else:
        for pid, state in report.failed.items():
            print(f"{pid}: {fulltext.state_word(state)}")
        print(f"{len(report.done)} PDFs' text made searchable")
    return 0


def cmd_pdf_show(args: argparse.Namespace) -> int:
    from paperdesk.core import LibraryError
    from paperdesk.core.pdf import download, files, fulltext
    from paperdesk.core.pdf import settings as pdf_settings

    with open_library(args) as lib:
        if not lib.exists(args.id):
            raise LibraryError(f"no paper with id {args.id}")
        row = files.pdf_row(lib, args.id)
        path = lib.pdf_path(args.id)
        address = download.pdf_url(lib.get(args.id) or {}, pdf_settings.load(lib))
    if row is None or path is None:
        how = (f"fetch one with `paperdesk pdf fetch {args.id}`" if address else
               f"no address to fetch it from: `paperdesk set-arxiv {args.id} ARXIV_ID`, "
               f"or `paperdesk pdf attach {args.id} FILE`")
        raise CommandError(f"{args.id}: no PDF ({how})")
    if args.json:
        print_json({**row, "path": str(path)})
    else:
        print(f"{path}\n{files.pages_text(row['pages'])}, {row['bytes']} bytes, {row['origin']}"
              f"{' from ' + row['url'] if row['url'] else ''}; {fulltext.state_word(row['text_state'])}")
    return 0


def cmd_pdf_settings(args: argparse.Namespace) -> int:
    from paperdesk.core.pdf import settings as pdf_settings

    with open_library(args) as lib:
        if args.name is not None and args.value is None:
            raise CommandError(f"give {args.name} a value ('' for its default)", code=2)
        if args.name is not None:
            try:
                pdf_settings.choose(lib, args.name, args.value)
            except ValueError as exc:
                raise CommandError(f"{exc}; nothing changed") from None
        rows = pdf_settings.describe(lib)
    for name, value, source in rows:
        if args.name is None or args.name.strip().lower() == name:
            print(f"{name} = {value} ({source})")
    return 0
