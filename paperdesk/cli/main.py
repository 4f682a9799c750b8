"""Entry point: parse arguments, open the library, run one command; exit 0 ok, 1 failure, 2 usage."""

from __future__ import annotations

import argparse
import importlib
import sqlite3
import sys
from collections.abc import Sequence

from paperdesk import __version__


def command_modules() -> list[str]:
    """Every `paperdesk/cli/*_cmds.py` module (plus the gui command), in name order.

    Each has register(subparsers); its commands set `func(args) -> int`. They are imported to
    build the parser, so they must import anything heavy (Qt, whoosh, httpx) inside functions.
    """
    import pkgutil

    import paperdesk.cli

    found = [m.name for m in pkgutil.iter_modules(paperdesk.cli.__path__) if m.name.endswith("_cmds")]
    return [f"paperdesk.cli.{name}" for name in sorted(found)] + ["paperdesk.cli.gui_cmd"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paperdesk",
        description="Read and triage research-paper digests. Without a command, opens the desk.",
    )
    parser.add_argument("--version", action="version", version=f"PaperDesk {__version__}")
    parser.add_argument("--library", metavar="DIR",
                        help="library folder (default: $PAPERDESK_LIBRARY or the user data dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        args = parser.parse_args([*argv, "gui"])
    from paperdesk.cli.output import CommandError

    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit where it cannot be caught
        return code
    except BrokenPipeError:
        return _reader_went_away()
    except CommandError as exc:
        print(f"paperdesk: {exc}", file=sys.stderr)
        return exc.code
    except (OSError, sqlite3.Error) as exc:
        from pathlib import Path

        from paperdesk.core.failures import describe, kind
        from paperdesk.core.paths import default_library_dir

        if kind(exc) is None:  # not the machine's doing: a bug, shown as one
            raise
        folder = Path(args.library).expanduser() if args.library else default_library_dir()
        print(f"paperdesk: {describe(exc, folder)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("paperdesk: interrupted", file=sys.stderr)
        return 130


def _reader_went_away() -> int:
    """The reader of stdout closed it (`paperdesk list | head -3`): normal use, so exit quietly.

    Python's own recipe: point stdout at devnull so the flush at exit cannot fail a second time.
    """
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0
