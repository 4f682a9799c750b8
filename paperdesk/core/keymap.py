"""Commands and key bindings as data (the qutebrowser way), Qt-free so `paperdesk keys` can print them.

Every user-facing command is declared once here with a name and a description; the GUI binds each
name to an implementation, and menus, the command palette, the cheat sheet and key bindings are all
generated from this table. Key maps are per mode:
- `normal`: the paper list has focus; single letters are commands;
- `insert`: typing in a note, tag or search field; letters are text, only a few chords act;
- `palette`: the command palette is open;
- `pdf`: the PDF view has focus; letters scroll, page, find and highlight in the PDF;
- `caret`: choosing words in the reader with the keys (`v`), to highlight them.
Users override bindings in `keys.toml` in the config dir; problems are reported, defaults stay usable.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

MODES = ("normal", "insert", "palette", "pdf", "caret")


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: str
    menu: str  # the menu the command appears in ("" = palette only)


def _specs(*rows: tuple[str, str, str]) -> dict[str, CommandSpec]:
    return {name: CommandSpec(name, description, menu) for name, description, menu in rows}


COMMANDS: dict[str, CommandSpec] = _specs(
    ("next", "Select the next paper", "Go"),
    ("previous", "Select the previous paper", "Go"),
    ("first", "Select the first paper", "Go"),
    ("last", "Select the last paper", "Go"),
    ("go-inbox", "Show the Inbox", "Go"),
    ("go-starred", "Show starred papers", "Go"),
    ("go-all", "Show all papers", "Go"),
    ("go-archive", "Show the Archive", "Go"),
    ("go-to", "Go to any view: a digest, tag, feed or saved search, by typing part of its name", "Go"),
    ("focus-sidebar", "Move the keys to the sidebar (j/k choose a view, Return or Esc come back)", "Go"),
    ("star", "Star or unstar the paper (or the marked papers)", "Paper"),
    ("tag", "Tag the paper (or the marked papers)", "Paper"),
    *[(f"tag-{n}", f"Apply the tag on key {n}", "") for n in range(1, 10)],
    ("note", "Edit the paper's note", "Paper"),
    ("highlight", "Highlight the selected abstract text", "Paper"),
    ("caret", "Choose words in the reader with the keys, to highlight them", "Paper"),
    ("caret-next-word", "Caret: the next word", ""),
    ("caret-previous-word", "Caret: the previous word", ""),
    ("caret-next-line", "Caret: a word on the next line", ""),
    ("caret-previous-line", "Caret: a word on the previous line", ""),
    ("caret-extend", "Caret: extend the selection by a word", ""),
    ("caret-shrink", "Caret: shrink the selection by a word", ""),
    ("caret-comment", "Caret: highlight the selection and write a comment on it", ""),
    ("archive-next", "Archive the paper (or the marked papers) and go to the next", "Paper"),
    ("inbox", "Move the paper back to the Inbox", "Paper"),
    ("mark", "Mark or unmark the paper for a bulk action", "Paper"),
    ("open", "Open the paper's page in the browser", "Paper"),
    ("copy-link", "Copy a Markdown link to the paper", "Paper"),
    ("undo", "Undo the last change", "Edit"),
    ("redo", "Redo the last undone change", "Edit"),
    ("history", "Show the history of changes", "Edit"),
    ("rules", "Rules: saved queries that tag, star, archive or mark read, on new papers or the Inbox",
     "Edit"),
    ("search", "Search the library", "Edit"),
    ("import", "Import digest files", "File"),
    ("export", "Export papers to Markdown or BibTeX", "File"),
    ("triage", "Triage the current view as a session", "Go"),
    ("for-you", "Show the view in interest order (For you), ranked again now; the order stays until "
                "asked again", "View"),
    ("keep", "Keep the paper and go to the next (in a triage session)", ""),
    ("skip", "Leave the paper undecided and go to the next (in a triage session)", ""),
    ("palette", "Open the command palette", "View"),
    ("cheat-sheet", "Show the keyboard cheat sheet", "Help"),
    ("normal-mode", "Leave the text field or palette (back to normal mode)", ""),
    ("toggle-pdf", "Show the paper's PDF (and move into it) or its abstract", "View"),
    ("pdf-fetch", "Fetch the paper's PDF (and show it)", "Paper"),
    ("pdf-attach", "Attach a PDF file to the paper (or drop one on it); undoable", "Paper"),
    ("arxiv-set", "Set or correct the paper's arXiv id (empty clears it); undoable", "Paper"),
    ("arxiv-lookup", "Look up arXiv ids: every paper without one, by exact title through the arXiv API",
     "Paper"),
    ("pdf-full-window", "Show the PDF alone in the window, or the whole desk again", "View"),
    ("pdf-scroll-down", "Scroll the PDF down", ""),
    ("pdf-scroll-up", "Scroll the PDF up", ""),
    ("pdf-scroll-left", "Scroll the PDF left (zoomed wider than the pane)", ""),
    ("pdf-scroll-right", "Scroll the PDF right (zoomed wider than the pane)", ""),
    ("pdf-next-page", "Next page of the PDF", ""),
    ("pdf-previous-page", "Previous page of the PDF", ""),
    ("pdf-first-page", "First page of the PDF", ""),
    ("pdf-last-page", "Last page of the PDF", ""),
    ("pdf-go-to-page", "Go to a page of the PDF", ""),
    ("pdf-find", "Find text in the PDF", ""),
    ("pdf-find-next", "Next match in the PDF", ""),
    ("pdf-find-previous", "Previous match in the PDF", ""),
    ("pdf-highlight", "Highlight the selected PDF text, or else the current match", ""),
    ("pdf-zoom-in", "Zoom into the PDF", ""),
    ("pdf-zoom-out", "Zoom out of the PDF", ""),
    ("pdf-fit-width", "Fit the PDF's pages to the pane's width", ""),
    ("pdf-outline", "Show or hide the PDF's table of contents", ""),
    ("pdf-back", "Back to where the last link, outline entry, page jump or search match left in the PDF", ""),
    ("pdf-forward", "Forward again in the PDF (after Back)", ""),
)

DEFAULT_KEYMAP: dict[str, dict[str, str]] = {
    "normal": {
        "j": "next", "Down": "next",
        "k": "previous", "Up": "previous",
        "g g": "first", "Home": "first",
        "G": "last", "End": "last",
        "s": "star",
        "t": "tag",
        **{str(n): f"tag-{n}" for n in range(1, 10)},
        "n": "note",
        "h": "highlight",
        "v": "caret",
        "e": "archive-next",
        "u": "undo", "Ctrl+Z": "undo",
        "Ctrl+R": "redo", "Ctrl+Shift+Z": "redo",
        "o": "open",
        "y": "copy-link",
        "/": "search", "Ctrl+F": "search",
        "g i": "go-inbox",
        "g s": "go-starred",
        "g l": "go-all",
        "g a": "go-archive",
        "g o": "go-to", "Ctrl+P": "go-to",
        "g h": "focus-sidebar",
        "x": "mark",
        "T": "triage",
        "r": "for-you",
        "Return": "keep",
        "Space": "skip",
        "Esc": "normal-mode",
        "?": "cheat-sheet",
        ":": "palette", "Ctrl+Shift+P": "palette",
        "Ctrl+O": "import",
        "p": "toggle-pdf",
        "F": "pdf-fetch",
        "A": "arxiv-set",
    },
    # Letters are text here: only chords and Escape act.
    "insert": {
        "Esc": "normal-mode",
        "Ctrl+F": "search",
        "Ctrl+P": "go-to",
        "Ctrl+Shift+P": "palette",
    },
    "palette": {
        "Esc": "normal-mode",
    },
    "pdf": {
        "j": "pdf-scroll-down", "Down": "pdf-scroll-down",
        "k": "pdf-scroll-up", "Up": "pdf-scroll-up",
        "Shift+Left": "pdf-scroll-left", "Shift+Right": "pdf-scroll-right",
        "Space": "pdf-next-page", "PgDown": "pdf-next-page", "Right": "pdf-next-page",
        "Shift+Space": "pdf-previous-page", "PgUp": "pdf-previous-page", "Left": "pdf-previous-page",
        "g g": "pdf-first-page", "Home": "pdf-first-page",
        "G": "pdf-last-page", "End": "pdf-last-page",
        "g p": "pdf-go-to-page",
        "/": "pdf-find", "Ctrl+F": "pdf-find",
        "n": "pdf-find-next", "N": "pdf-find-previous",
        "h": "pdf-highlight",
        "+": "pdf-zoom-in", "=": "pdf-zoom-in", "-": "pdf-zoom-out", "w": "pdf-fit-width",
        "t": "pdf-outline",
        "Alt+Left": "pdf-back", "Backspace": "pdf-back", "Alt+Right": "pdf-forward",
        "f": "pdf-full-window",
        "p": "toggle-pdf",
        "u": "undo", "Ctrl+Z": "undo", "Ctrl+R": "redo",
        "?": "cheat-sheet",
        ":": "palette", "Ctrl+Shift+P": "palette",
        "Esc": "normal-mode",
    },
    # The reader's page with a selection of whole words (always at least one word).
    "caret": {
        "w": "caret-next-word", "Right": "caret-next-word", "l": "caret-next-word",
        "b": "caret-previous-word", "Left": "caret-previous-word",
        "j": "caret-next-line", "Down": "caret-next-line",
        "k": "caret-previous-line", "Up": "caret-previous-line",
        "W": "caret-extend", "Shift+Right": "caret-extend",
        "B": "caret-shrink", "Shift+Left": "caret-shrink",
        "h": "highlight", "Return": "highlight",
        "c": "caret-comment",
        "Esc": "normal-mode",
    },
}


@dataclass(frozen=True)
class Binding:
    mode: str
    keys: str  # space-separated sequence, e.g. "g i"
    command: str

    @property
    def description(self) -> str:
        return COMMANDS[self.command].description


@dataclass
class Keymap:
    bindings: dict[str, dict[str, str]]
    problems: list[str]

    def for_mode(self, mode: str) -> dict[str, str]:
        return self.bindings.get(mode, {})

    def all(self) -> list[Binding]:
        return [Binding(mode, keys, cmd) for mode in MODES for keys, cmd in self.for_mode(mode).items()]

    def keys_for(self, command: str, mode: str = "normal") -> list[str]:
        return [k for k, c in self.for_mode(mode).items() if c == command]


def normalize_keys(keys: str) -> str:
    """One spelling per sequence: single spaces, canonical modifier case (`ctrl+r` → `Ctrl+R`)."""
    parts = []
    for stroke in keys.split():
        *mods, key = stroke.split("+") if stroke != "+" else [stroke]
        mods = [m.capitalize() for m in mods]
        if mods and len(key) == 1:
            key = key.upper()
        if key.lower() in ("esc", "escape"):
            key = "Esc"
        parts.append("+".join([*mods, key]))
    return " ".join(parts)


def conflicts(bindings: dict[str, str]) -> list[str]:
    """Pairs where one sequence is a prefix of another (the longer could never be typed)."""
    found = []
    seqs = sorted(bindings)
    for a in seqs:
        for b in seqs:
            if a != b and b.startswith(a + " "):
                found.append(f"'{a}' ({bindings[a]}) hides '{b}' ({bindings[b]})")
    return found


def load_keymap(path: Path | None) -> Keymap:
    """Defaults overlaid with the user's TOML file. Bad entries are skipped and reported.

    The file has one table per mode; a value names a command, or "" to unbind:
        [normal]
        "d" = "archive-next"
        "e" = ""
    """
    bindings = {mode: dict(keys) for mode, keys in DEFAULT_KEYMAP.items()}
    problems: list[str] = []
    if path is None or not path.exists():
        return Keymap(bindings, problems)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Keymap(bindings, [f"{path}: ignored, cannot be read: {exc}"])
    for mode, table in data.items():
        if mode not in MODES or not isinstance(table, dict):
            problems.append(f"{path}: unknown mode [{mode}] (use {', '.join(MODES)})")
            continue
        for raw_keys, command in table.items():
            keys = normalize_keys(raw_keys)
            if not keys or not isinstance(command, str):
                problems.append(f"{path}: [{mode}] {raw_keys!r}: expected a command name")
            elif command == "":
                bindings[mode].pop(keys, None)
            elif command not in COMMANDS:
                problems.append(f"{path}: [{mode}] {raw_keys!r}: unknown command {command!r}")
            elif mode == "insert" and len(keys) == 1 and keys.isprintable():
                problems.append(f"{path}: [insert] {raw_keys!r}: single characters are text in insert mode")
            else:
                candidate = {**bindings[mode], keys: command}
                clash = conflicts(candidate)
                if clash:
                    problems.append(f"{path}: [{mode}] {raw_keys!r} ignored: {clash[0]}")
                else:
                    bindings[mode] = candidate
    return Keymap(bindings, problems)


def user_keymap_path() -> Path:
    from paperdesk.core.paths import config_dir

    return config_dir() / "keys.toml"


def cheat_sheet_markdown(keymap: Keymap) -> str:
    """The normal-mode bindings grouped by command as a Markdown table, then what the keys do in a
    triage session, in the PDF view, in caret mode and in a text field (README and the `?` sheet)."""
    by_command: dict[str, list[str]] = {}
    for keys, command in keymap.for_mode("normal").items():
        by_command.setdefault(command, []).append(keys)
    lines = ["| Keys | Command |", "| --- | --- |"]
    for name, spec in COMMANDS.items():
        if name in by_command and not name.startswith("tag-"):
            lines.append(f"| {' / '.join(f'`{k}`' for k in by_command[name])} | {spec.description} |")
    lines.append("| `1`–`9` | Apply the tag on that key (a tag gets the first free key when first used; "
                 "the tag popup shows them, `tag=3` there puts a tag on key 3) |")
    pdf: dict[str, list[str]] = {}
    for keys, command in keymap.for_mode("pdf").items():
        if command not in by_command:  # undo, palette, ... work as in the list
            pdf.setdefault(command, []).append(keys)
    lines += ["", "In the PDF view (`p` moves into it, `Esc` back to the list):", "",
              "| Keys | Command |", "| --- | --- |"]
    lines += [f"| {' / '.join(f'`{k}`' for k in keys)} | {COMMANDS[name].description} |"
              for name, keys in pdf.items()]

    def bound(command: str, mode: str = "normal") -> str:
        return " / ".join(f"`{k}`" for k in keymap.keys_for(command, mode)) or "(unbound)"

    lines += [
        "",
        f"**In a triage session** ({bound('triage')}): {bound('keep')} keeps, {bound('next')} or "
        f"{bound('skip')} skip, {bound('archive-next')} archives, {bound('star')} stars, `1`–`9` tag; each "
        f"decides and goes to the next paper. {bound('previous')} goes back, {bound('triage')} again ends.",
        "",
        f"**Caret mode** ({bound('caret')}, in the reader): {bound('caret-next-word', 'caret')} and "
        f"{bound('caret-previous-word', 'caret')} move by word, {bound('caret-next-line', 'caret')} and "
        f"{bound('caret-previous-line', 'caret')} by line, {bound('caret-extend', 'caret')} and "
        f"{bound('caret-shrink', 'caret')} extend and shrink the selection, {bound('highlight', 'caret')} "
        f"highlights it, {bound('caret-comment', 'caret')} highlights it with a comment, "
        f"{bound('normal-mode', 'caret')} leaves.",
        "",
        f"**In a text field** letters are text: {bound('normal-mode', 'insert')} goes back to the list "
        f"(the search field keeps its results, as `Return` does), {bound('search', 'insert')} searches, "
        f"{bound('go-to', 'insert')} goes to a view, {bound('palette', 'insert')} opens the command palette.",
    ]
    return "\n".join(lines)
