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


# name -> (menu title, handler[, icon])
_GUI: dict[str, tuple[str, Handler] | tuple[str, Handler, str]] = {
    "next": ("&Next paper", lambda w: w.triage.decide("skip"), "next"),
    "previous": ("&Previous paper", lambda w: w.triage.previous(), "previous"),
    "first": ("&First paper", lambda w: w.selection.move_to_row(0)),
    "last": ("&Last paper", lambda w: w.selection.move_to_row(-1)),
    "go-inbox": ("&Inbox", lambda w: w.go_to("inbox"), "inbox"),
    "go-starred": ("&Starred", lambda w: w.go_to("starred"), "star"),
    "go-all": ("&All", lambda w: w.go_to("all"), "all"),
    "go-archive": ("A&rchive", lambda w: w.go_to("archive"), "archive"),
    "go-to": ("&Go to view…", lambda w: w.show_go_to()),
    "focus-sidebar": ("Keys to the si&debar", lambda w: w.focus_sidebar()),
    "star": ("&Star / unstar", lambda w: w.writes.toggle_star(), "star"),
    "tag": ("&Tag…", lambda w: w.writes.show_tag_popup(), "tag"),
    **{f"tag-{n}": (f"Apply tag {n}", (lambda w, n=n: w.writes.apply_tag_number(n))) for n in range(1, 10)},
    "note": ("&Note", lambda w: w.paper.focus_note()),
    "highlight": ("&Highlight selection", lambda w: w.paper.highlight_selection()),
    "caret": ("Select &words with the keys", lambda w: w.caret.start()),
    "caret-next-word": ("Caret: next word", lambda w: w.caret.move(1)),
    "caret-previous-word": ("Caret: previous word", lambda w: w.caret.move(-1)),
    "caret-next-line": ("Caret: next line", lambda w: w.caret.line(1)),
    "caret-previous-line": ("Caret: previous line", lambda w: w.caret.line(-1)),
    "caret-extend": ("Caret: extend", lambda w: w.caret.extend(1)),
    "caret-shrink": ("Caret: shrink", lambda w: w.caret.extend(-1)),
    "caret-comment": ("Caret: highlight and comment", lambda w: w.paper.highlight_selection(comment=True)),
    "archive-next": ("&Archive and next", lambda w: w.writes.archive_next(), "archive"),
    "inbox": ("Move to &Inbox", lambda w: w.writes.move_to_inbox(), "inbox"),
    "mark": ("&Mark / unmark", lambda w: w.selection.toggle_mark()),
    "open": ("&Open paper page", lambda w: w.paper.open_paper_page()),
    "copy-link": ("&Copy Markdown link", lambda w: w.paper.copy_link()),
    "undo": ("&Undo", lambda w: w.writes.undo(), "undo"),
    "redo": ("&Redo", lambda w: w.writes.redo(), "redo"),
    "history": ("&History…", lambda w: w.show_history()),
    "rules": ("R&ules…", lambda w: w.show_rules()),
    "search": ("&Find…", lambda w: w.focus_search(), "search"),
    "import": ("&Import digests…", lambda w: w.imports.choose_import(), "import"),
    "export": ("&Export…", lambda w: w.export.show()),
    "triage": ("&Triage this view", lambda w: w.triage.toggle(w.model.ids, w.papers.view.title)),
    "for-you": ("&For you (interest order)", lambda w: w.papers.rank_again()),
    "keep": ("Keep (triage)", lambda w: w.triage.decide("keep")),
    "skip": ("Skip (triage)", lambda w: w.triage.decide("skip")),
    "palette": ("Command &palette…", lambda w: w.show_palette()),
    "cheat-sheet": ("&Keyboard cheat sheet", lambda w: w.show_cheat_sheet()),
    "normal-mode": ("Back to the list", lambda w: w.normal_mode()),
    "toggle-pdf": ("&PDF / abstract", lambda w: w.pdf.toggle_pdf()),
    "pdf-fetch": ("&Fetch PDF", lambda w: w.pdf.fetch_pdf()),
    "pdf-attach": ("Attach a P&DF…", lambda w: w.pdf.choose_pdf_to_attach()),
    "arxiv-set": ("Set ar&Xiv id…", lambda w: w.pdf.set_arxiv_id()),
    "arxiv-lookup": ("&Look up arXiv ids", lambda w: w.pdf.look_up_arxiv_ids()),
    "pdf-full-window": ("PDF in the &full window", lambda w: w.pdf.pdf_full_window()),
    "pdf-scroll-down": ("Scroll down", lambda w: w.pdf.pdf_view.scroll_by(1)),
    "pdf-scroll-up": ("Scroll up", lambda w: w.pdf.pdf_view.scroll_by(-1)),
    "pdf-scroll-left": ("Scroll left", lambda w: w.pdf.pdf_view.scroll_sideways(-1)),
    "pdf-scroll-right": ("Scroll right", lambda w: w.pdf.pdf_view.scroll_sideways(1)),
    "pdf-next-page": ("Next page", lambda w: w.pdf.pdf_view.next_page()),
    "pdf-previous-page": ("Previous page", lambda w: w.pdf.pdf_view.previous_page()),
    "pdf-first-page": ("First page", lambda w: w.pdf.pdf_view.first_page()),
    "pdf-last-page": ("Last page", lambda w: w.pdf.pdf_view.last_page()),
    "pdf-go-to-page": ("Go to page…", lambda w: w.pdf.pdf_go_to_page()),
    "pdf-find": ("Find in the PDF…", lambda w: w.reader.pdf.focus_find()),
    "pdf-find-next": ("Next match", lambda w: w.pdf.pdf_view.find_next(1)),
    "pdf-find-previous": ("Previous match", lambda w: w.pdf.pdf_view.find_next(-1)),
    "pdf-highlight": ("Highlight in the PDF", lambda w: w.pdf.pdf_highlight()),
    "pdf-zoom-in": ("Zoom in", lambda w: w.pdf.pdf_view.zoom_in()),
    "pdf-zoom-out": ("Zoom out", lambda w: w.pdf.pdf_view.zoom_out()),
    "pdf-fit-width": ("Fit width", lambda w: w.pdf.pdf_view.set_fit_width()),
    "pdf-outline": ("Table of contents", lambda w: w.reader.pdf.toggle_outline()),
    "pdf-back": ("Back", lambda w: w.pdf.pdf_view.back()),
    "pdf-forward": ("Forward", lambda w: w.pdf.pdf_view.forward()),
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
        Command(name, title, spec.description, spec.menu, run, *icon)
        for name, spec in core_keymap.COMMANDS.items()
        for title, run, *icon in [_GUI[name]]
    )
    return core + DESK_ONLY


COMMANDS: tuple[Command, ...] = _build()
BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
MENUS = ("&File", "&Edit", "&Paper", "&Go", "&View", "Fee&ds", "&Help")  # a command's menu: its title, no &
TOOLBAR_ORDER = ("import", "undo", "redo", "star", "tag", "archive-next")

