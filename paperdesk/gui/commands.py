"""The desk's commands, declared once: menus, toolbar and shortcuts are built from this table.

Issue 6 turns `keys` into per-mode key maps (data, user-overridable) and adds a palette; the registry
shape (name, title, description, menu, run) is meant to stay. `scope="list"` keys are single letters
that only fire while the paper list has focus (normal mode), never while typing in a text field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paperdesk.gui.main_window import MainWindow


@dataclass(frozen=True)
class Command:
    name: str
    title: str
    description: str
    menu: str
    run: Callable[[MainWindow], object]
    keys: tuple[str, ...] = ()
    scope: str = "window"  # "window": anywhere in the window; "list": only when the list has focus
    icon: str | None = None
    toolbar: bool = False


COMMANDS: tuple[Command, ...] = (
    Command("import", "&Import digests…", "Import digest files into the library", "File",
            lambda w: w.choose_import(), ("Ctrl+O",), icon="import", toolbar=True),
    Command("import-samples", "Import &sample digests", "Import the sample digests shipped with PaperDesk",
            "File", lambda w: w.import_samples()),
    Command("cancel-job", "&Cancel background job", "Stop the running import", "File",
            lambda w: w.jobs.cancel_all(), icon="cancel"),
    Command("quit", "&Quit", "Close the window", "File", lambda w: w.close(), ("Ctrl+Q",)),
    Command("undo", "&Undo", "Undo the last change (survives restarts)", "Edit",
            lambda w: w.undo(), ("Ctrl+Z",), icon="undo", toolbar=True),
    Command("redo", "&Redo", "Redo what was undone", "Edit",
            lambda w: w.redo(), ("Ctrl+Shift+Z", "Ctrl+Y"), icon="redo", toolbar=True),
    Command("search", "&Find…", "Focus the search field", "Edit",
            lambda w: w.focus_search(), ("Ctrl+F",), icon="search"),
    Command("search-slash", "Find (/)", "Focus the search field", "",
            lambda w: w.focus_search(), ("/",), scope="list"),
    Command("star", "&Star / unstar", "Toggle the star on the selected papers", "Paper",
            lambda w: w.toggle_star(), ("S",), scope="list", icon="star", toolbar=True),
    Command("archive", "&Archive / move to inbox", "Archive the selected papers (or return them)",
            "Paper", lambda w: w.toggle_archive(), ("E",), scope="list", icon="archive", toolbar=True),
    Command("next", "&Next paper", "Select the next paper", "Go",
            lambda w: w.move_current(1), ("J",), scope="list", icon="next"),
    Command("previous", "&Previous paper", "Select the previous paper", "Go",
            lambda w: w.move_current(-1), ("K",), scope="list", icon="previous"),
    Command("go-inbox", "&Inbox", "Show the inbox", "Go", lambda w: w.go_to("inbox"), ("Ctrl+1",)),
    Command("go-starred", "&Starred", "Show starred papers", "Go", lambda w: w.go_to("starred"),
            ("Ctrl+2",)),
    Command("go-all", "&All", "Show every paper", "Go", lambda w: w.go_to("all"), ("Ctrl+3",)),
    Command("go-archive", "A&rchive", "Show archived papers", "Go", lambda w: w.go_to("archive"),
            ("Ctrl+4",)),
)

MENUS = ("File", "Edit", "Paper", "Go")


def command(name: str) -> Command:
    return next(c for c in COMMANDS if c.name == name)
