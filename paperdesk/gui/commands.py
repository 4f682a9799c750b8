"""The desk's commands: the core table (`paperdesk.core.keymap.COMMANDS`) bound to GUI functions.

Names, descriptions and menus come from the core table; this module only adds a menu title, an
icon and the function for each, plus a few commands that exist only in the desk (quit, import the
samples, the Highlights view, triage keep/skip). Menus, the toolbar, the palette and the cheat sheet
are generated from `COMMANDS`; keys come from the core key map per mode (`gui/keys.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paperdesk.core import keymap as core_keymap

if TYPE_CHECKING:
    from paperdesk.gui.main_window import MainWindow

Handler = Callable[["MainWindow"], object]


@dataclass(frozen=True)
class Command:
    name: str
    title: str
    description: str
    menu: str  # "" = palette only
    run: Handler
    icon: str | None = None
    toolbar: bool = False


# name -> (menu title, handler, icon, on the toolbar)
_GUI: dict[str, tuple[str, Handler, str | None, bool]] = {
    "next": ("&Next paper", lambda w: w.triage.next(), "next", False),
    "previous": ("&Previous paper", lambda w: w.triage.previous(), "previous", False),
    "first": ("&First paper", lambda w: w.selection.move_to_row(0), None, False),
    "last": ("&Last paper", lambda w: w.selection.move_to_row(-1), None, False),
    "go-inbox": ("&Inbox", lambda w: w.go_to("inbox"), "inbox", False),
    "go-starred": ("&Starred", lambda w: w.go_to("starred"), "star", False),
    "go-all": ("&All", lambda w: w.go_to("all"), "all", False),
    "go-archive": ("A&rchive", lambda w: w.go_to("archive"), "archive", False),
    "go-to": ("&Go to view…", lambda w: w.show_go_to(), None, False),
    "focus-sidebar": ("Keys to the si&debar", lambda w: w.focus_sidebar(), None, False),
    "star": ("&Star / unstar", lambda w: w.writes.toggle_star(), "star", True),
    "tag": ("&Tag…", lambda w: w.writes.show_tag_popup(), "tag", True),
    **{f"tag-{n}": (f"Apply tag {n}", (lambda w, n=n: w.writes.apply_tag_number(n)), None, False)
       for n in range(1, 10)},
    "note": ("&Note", lambda w: w.paper.focus_note(), None, False),
    "highlight": ("&Highlight selection", lambda w: w.paper.highlight_selection(), None, False),
    "caret": ("Select &words with the keys", lambda w: w.caret.start(), None, False),
    "caret-next-word": ("Caret: next word", lambda w: w.caret.move(1), None, False),
    "caret-previous-word": ("Caret: previous word", lambda w: w.caret.move(-1), None, False),
    "caret-next-line": ("Caret: next line", lambda w: w.caret.line(1), None, False),
    "caret-previous-line": ("Caret: previous line", lambda w: w.caret.line(-1), None, False),
    "caret-extend": ("Caret: extend", lambda w: w.caret.extend(1), None, False),
    "caret-shrink": ("Caret: shrink", lambda w: w.caret.extend(-1), None, False),
    "caret-comment": ("Caret: highlight and comment", lambda w: w.paper.highlight_selection(comment=True),
                      None, False),
    "archive-next": ("&Archive and next", lambda w: w.writes.archive_next(), "archive", True),
    "inbox": ("Move to &Inbox", lambda w: w.writes.move_to_inbox(), "inbox", False),
    "mark": ("&Mark / unmark", lambda w: w.selection.toggle_mark(), None, False),
    "open": ("&Open paper page", lambda w: w.paper.open_paper_page(), None, False),
    "copy-link": ("&Copy Markdown link", lambda w: w.paper.copy_link(), None, False),
    "undo": ("&Undo", lambda w: w.writes.undo(), "undo", True),
    "redo": ("&Redo", lambda w: w.writes.redo(), "redo", True),
    "history": ("&History…", lambda w: w.show_history(), None, False),
    "rules": ("R&ules…", lambda w: w.show_rules(), None, False),
    "search": ("&Find…", lambda w: w.focus_search(), "search", False),
    "import": ("&Import digests…", lambda w: w.imports.choose_import(), "import", True),
    "export": ("&Export…", lambda w: w.export.show(), None, False),
    "triage": ("&Triage this view", lambda w: w.toggle_triage(), None, False),
    "for-you": ("&For you (interest order)", lambda w: w.papers.rank_again(), None, False),
    "keep": ("Keep (triage)", lambda w: w.triage.decide("keep"), None, False),
    "skip": ("Skip (triage)", lambda w: w.triage.decide("skip"), None, False),
    "palette": ("Command &palette…", lambda w: w.show_palette(), None, False),
    "cheat-sheet": ("&Keyboard cheat sheet", lambda w: w.show_cheat_sheet(), None, False),
    "normal-mode": ("Back to the list", lambda w: w.normal_mode(), None, False),
    "toggle-pdf": ("&PDF / abstract", lambda w: w.pdf.toggle_pdf(), None, False),
    "pdf-fetch": ("&Fetch PDF", lambda w: w.pdf.fetch_pdf(), None, False),
    "pdf-attach": ("Attach a P&DF…", lambda w: w.pdf.choose_pdf_to_attach(), None, False),
    "arxiv-set": ("Set ar&Xiv id…", lambda w: w.pdf.set_arxiv_id(), None, False),
    "arxiv-lookup": ("&Look up arXiv ids", lambda w: w.pdf.look_up_arxiv_ids(), None, False),
    "pdf-full-window": ("PDF in the &full window", lambda w: w.pdf.pdf_full_window(), None, False),
    "pdf-scroll-down": ("Scroll down", lambda w: w.pdf.pdf_view.scroll_by(1), None, False),
    "pdf-scroll-up": ("Scroll up", lambda w: w.pdf.pdf_view.scroll_by(-1), None, False),
    "pdf-scroll-left": ("Scroll left", lambda w: w.pdf.pdf_view.scroll_sideways(-1), None, False),
    "pdf-scroll-right": ("Scroll right", lambda w: w.pdf.pdf_view.scroll_sideways(1), None, False),
    "pdf-next-page": ("Next page", lambda w: w.pdf.pdf_view.next_page(), None, False),
    "pdf-previous-page": ("Previous page", lambda w: w.pdf.pdf_view.previous_page(), None, False),
    "pdf-first-page": ("First page", lambda w: w.pdf.pdf_view.first_page(), None, False),
    "pdf-last-page": ("Last page", lambda w: w.pdf.pdf_view.last_page(), None, False),
    "pdf-go-to-page": ("Go to page…", lambda w: w.pdf.pdf_go_to_page(), None, False),
    "pdf-find": ("Find in the PDF…", lambda w: w.reader.pdf.focus_find(), None, False),
    "pdf-find-next": ("Next match", lambda w: w.pdf.pdf_view.find_next(1), None, False),
    "pdf-find-previous": ("Previous match", lambda w: w.pdf.pdf_view.find_next(-1), None, False),
    "pdf-highlight": ("Highlight in the PDF", lambda w: w.pdf.pdf_highlight(), None, False),
    "pdf-zoom-in": ("Zoom in", lambda w: w.pdf.pdf_view.zoom_in(), None, False),
    "pdf-zoom-out": ("Zoom out", lambda w: w.pdf.pdf_view.zoom_out(), None, False),
    "pdf-fit-width": ("Fit width", lambda w: w.pdf.pdf_view.set_fit_width(), None, False),
    "pdf-outline": ("Table of contents", lambda w: w.reader.pdf.toggle_outline(), None, False),
}

# Commands only the desk has (no CLI or core meaning).
DESK_ONLY: tuple[Command, ...] = (
    Command("import-samples", "Import &sample digests", "Import the sample digests shipped with PaperDesk",
            "File", lambda w: w.imports.import_samples()),
    Command("cancel-job", "&Cancel background job", "Stop the running import", "File",
            lambda w: w.job_status.cancel(), icon="cancel"),
    Command("quit", "&Quit", "Close the window", "File", lambda w: w.close()),
    Command("highlights", "&Highlights…", "List every highlight in the library with its paper", "View",
            lambda w: w.show_highlights()),
)


def _build() -> tuple[Command, ...]:
    missing = set(core_keymap.COMMANDS) - set(_GUI)
    if missing:  # every core command must do something in the desk
        raise RuntimeError(f"desk commands without an implementation: {sorted(missing)}")
    core = tuple(
        Command(name, title, spec.description, spec.menu, run, icon, toolbar)
        for name, spec in core_keymap.COMMANDS.items()
        for title, run, icon, toolbar in [_GUI[name]]
    )
    return core + DESK_ONLY


COMMANDS: tuple[Command, ...] = _build()
BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
MENUS = ("File", "Edit", "Paper", "Go", "View", "Help")
TOOLBAR_ORDER = ("import", "undo", "redo", "star", "tag", "archive-next")


def command(name: str) -> Command:
    return BY_NAME[name]
