"""Shared helpers for commands: opening the library, errors, JSON and text output."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paperdesk.core import Library


class CommandError(Exception):
    """A failure to report in one line; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


@contextlib.contextmanager
def open_library(args: argparse.Namespace, *expected: type[Exception]) -> Iterator[Library]:
    """The library for one command; a LibraryError, or one of the `expected` errors (whose
    message is meant for the user too), becomes the command's one line."""
    from paperdesk.core import Library, LibraryError

    try:
        with progress_line(percent=True) as progress:  # shown only while a migration runs
            lib = Library.open(args.library, progress=progress)
    except LibraryError as exc:
        raise CommandError(str(exc)) from None
    except KeyboardInterrupt:  # opening takes long when it upgrades: say what became of that
        raise CommandError("interrupted while opening the library; nothing is lost (an upgrade goes on "
                           "where it stopped the next time the library is opened)", 130) from None
    try:
        yield lib
    except (LibraryError, *expected) as exc:
        raise CommandError(str(exc)) from None
    finally:
        lib.close()
    # Only after a command that worked: a failure's own line says it all.
    for warning in dict.fromkeys(lib.warnings):
        print(f"paperdesk: {warning}", file=sys.stderr)
    if lib.search.backlog:
        print(f"paperdesk: {lib.search.backlog} papers wait for the search index; "
              "`paperdesk index update` (or the next search) indexes them", file=sys.stderr)


@contextlib.contextmanager
def progress_line(show: bool = True, *,
                  percent: bool = False) -> Iterator[Callable[[int, int, str], None] | None]:
    """A progress callback rewriting one line on stderr (None off a terminal, or when not `show`n:
    --json); the line is ended when the block exits, if anything was shown."""
    if not (show and sys.stderr.isatty()):
        yield None
        return
    shown = False

    def progress(done: int, total: int, what: str) -> None:
        nonlocal shown
        if not total:  # nothing to do: no line at all
            return
        shown = True
        count = f"{100 * done / total:5.1f}%" if percent else f"[{done}/{total}]"
        print(f"\r{count} {one_line(what, 60):<60}", end="", file=sys.stderr)

    try:
        yield progress
    finally:
        if shown:
            print(file=sys.stderr)


def positive_int(text: str) -> int:
    """argparse type for counts such as --limit."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def print_json_list(items: Iterable[object]) -> None:
    """As `print_json(list(items))`, written item by item (a million records never in memory)."""
    first = True
    for item in items:
        text = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        sys.stdout.write(("[\n  " if first else ",\n  ") + text)
        first = False
    sys.stdout.write("[]\n" if first else "\n]\n")


def terminal_text(text: str | None) -> str:
    """Text safe to print: no escape sequences or control characters (rows stored before the
    store stripped them may hold some)."""
    from paperdesk.core.limits import printable

    return printable(text or "")


def one_line(text: str | None, width: int) -> str:
    text = " ".join(terminal_text(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"
