"""The note editor under the reader: Markdown source with list continuation, a live preview, autosave.

Autosave writes ~1 s after typing stops, on focus-out, before another paper is shown and before the
window closes, always through `write(label, fn, done)` (the desk's single-writer path), with
`lib.notes.set(..., autosave=True)` so one typing session is one undo step. The editor never
waits for a save: text stays editable while the write is queued behind a running job.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from paperdesk.core.library import Library
from paperdesk.core.markup import render_markdown
from paperdesk.gui.layout import column, row
from paperdesk.gui.qt import (
    QFontDatabase,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QSplitter,
    Qt,
    QTimer,
    QToolButton,
    QWidget,
    Signal,
)
from paperdesk.gui.safe_browser import SafeBrowser

AUTOSAVE_MS = 1000
PREVIEW_MS = 120
_LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])(\s+)(\[[ xX]\]\s+)?(.*)$")
_MARKER = re.compile(r"[-*+]|\d+[.)]")
Write = Callable[[str, Callable[[Library], object], Callable[[object], None] | None], None]


def continue_list(line: str) -> str | None:
    """What Enter should insert after `line`: the next list marker, "" to end an empty item, or None."""
    m = _LIST_ITEM.match(line)
    if not m:
        return None
    indent, marker, space, box, content = m.groups()
    if not content.strip():
        return ""
    if marker[0].isdigit():
        marker = f"{int(marker[:-1]) + 1}{marker[-1]}"
    return f"{indent}{marker}{space}{'[ ] ' if box else ''}"


def replace_typed_marker(line: str, automatic: str) -> str | None:
    """`line` (up to the caret, a space about to be typed) when the user typed a list marker right
    after the one Enter inserted: the line with the typed marker alone ("- - " -> "- "), else None."""
    if not line.startswith(automatic) or not _MARKER.fullmatch(line[len(automatic):]):
        return None
    indent = automatic[:len(automatic) - len(automatic.lstrip())]
    return f"{indent}{line[len(automatic):]} "


class NoteEditor(QPlainTextEdit):
    focus_left = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.setFont(font)
        self.setTabChangesFocus(False)
        self.setPlaceholderText("Write a note in Markdown…  [[arXiv id]] or [[title]] links a paper.  "
                                "Saved as you type.  Esc: back to the list.")
        self._automatic: tuple[int, str] | None = None  # (block, marker) the last Enter inserted

    def keyPressEvent(self, event) -> None:
        plain = not (event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier)
        cursor = self.textCursor()
        line = cursor.block().text()[:cursor.positionInBlock()]
        if plain and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            follow = continue_list(line)
            if follow == "":  # Enter on an empty item ends the list: a blank line, then a new paragraph
                cursor.movePosition(cursor.MoveOperation.StartOfBlock, cursor.MoveMode.KeepAnchor)
                cursor.insertText("\n")
                self.setTextCursor(cursor)
                self._automatic = None
                return
            if follow is not None:
                cursor.insertText("\n" + follow)
                self.ensureCursorVisible()
                self._automatic = (cursor.blockNumber(), follow)
                return
        if event.text() == " " and self._automatic and self._automatic[0] == cursor.blockNumber():
            typed = replace_typed_marker(line, self._automatic[1])
            if typed is not None:  # the user typed the marker Enter had already put there
                cursor.movePosition(cursor.MoveOperation.StartOfBlock, cursor.MoveMode.KeepAnchor)
                cursor.insertText(typed)
                self._automatic = None
                return
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.focus_left.emit()


class NotePanel(QWidget):
    saved = Signal(str)  # paper id, after a save reached the library
    paper_link = Signal(str)

    def __init__(self, lib: Library, write: Write, parent=None):
        super().__init__(parent)
        self.lib = lib
        self._write = write
        self.paper_id: str | None = None
        self.dirty = False  # edited since the last save was handed to the writer
        self.unsaved: tuple[str, str] | None = None  # handed to the writer, not confirmed yet
        self._loading = False

        self.editor = NoteEditor()
        self.preview = SafeBrowser()
        self.preview.paper_link.connect(self.paper_link)
        # Source and rendering side by side; either can be dragged closed.
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.editor)
        self.split.addWidget(self.preview)
        self.split.setSizes([1, 1])
        self.state_label = QLabel(styleSheet="color: palette(placeholder-text);")
        self.revisions_button = QToolButton(text="Revisions",
                                            toolTip="Show earlier versions of this note and restore one")
        self.revisions_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.revisions_menu = QMenu(self.revisions_button)
        self.revisions_menu.aboutToShow.connect(self.fill_revisions)
        self.revisions_button.setMenu(self.revisions_menu)
        header = QWidget()
        row(QLabel("<b>Note</b> · Markdown, preview beside it"), 1, self.state_label, self.revisions_button,
            on=header, margins=(4, 0, 4, 0))
        column(header, self.split, on=self, margins=(0, 0, 0, 0), spacing=2)

        self._save_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_MS)
        self._save_timer.timeout.connect(self.flush)
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_MS)
        self._preview_timer.timeout.connect(self.update_preview)
        self.editor.textChanged.connect(self._edited)
        self.editor.focus_left.connect(self.flush)
        self.setEnabled(False)

    def focus_editor(self) -> None:
        if self.split.sizes()[0] == 0:  # dragged closed: open it again
            self.split.setSizes([1, 1])
        self.editor.setFocus()

    # -- showing ----------------------------------------------------------------------------------
    def show_paper(self, paper_id: str | None, body: str) -> None:
        """Show another paper's note (the caller flushes the previous one first)."""
        self.paper_id = paper_id
        self.setEnabled(paper_id is not None)
        self._set_text(body)
        self.state_label.setText("")

    def library_changed(self, body: str) -> None:
        """The library's note for the shown paper is `body` now (a save, an undo, the CLI)."""
        if not self.dirty and self.editor.toPlainText() != body:
            cursor = self.editor.textCursor().position()
            self._set_text(body)
            c = self.editor.textCursor()
            c.setPosition(min(cursor, len(body)))
            self.editor.setTextCursor(c)

    def _set_text(self, body: str) -> None:
        self._loading = True
        try:
            self.editor.setPlainText(body)
        finally:
            self._loading = False
        self.dirty = False
        self._save_timer.stop()
        self.update_preview()

    def _edited(self) -> None:
        if self._loading or self.paper_id is None:
            return
        self.dirty = True
        self.state_label.setText("editing…")
        self._save_timer.start()
        self._preview_timer.start()

    def update_preview(self) -> None:
        self._preview_timer.stop()
        text = self.editor.toPlainText()
        if not text.strip():
            self.preview.setHtml("<p style='color: gray'>Nothing to preview yet.</p>")
            return
        self.preview.setHtml(render_markdown(text, lambda t: self.lib.notes.resolve_link(t)))

    # -- saving -----------------------------------------------------------------------------------
    def flush(self) -> None:
        """Hand the edited text to the writer now (no-op when nothing changed)."""
        self._save_timer.stop()
        if not self.dirty or self.paper_id is None:
            return
        pid, body = self.paper_id, self.editor.toPlainText()
        self.dirty = False
        self.unsaved = (pid, body)

        def done(_result: object) -> None:
            if self.unsaved == (pid, body):
                self.unsaved = None
            if pid == self.paper_id and not self.dirty:
                self.state_label.setText("saved")
            self.saved.emit(pid)

        self._write("Save note", lambda lib: lib.notes.set(pid, body, autosave=True), done)

    def save_now(self) -> None:
        """At close, after `flush` and the writer stopped: write what the writer did not confirm."""
        if self.unsaved is not None:
            pid, body = self.unsaved
            self.lib.notes.set(pid, body, autosave=True)
            self.unsaved = None

    def stop(self) -> None:
        self._save_timer.stop()
        self._preview_timer.stop()

    # -- revisions --------------------------------------------------------------------------------
    def fill_revisions(self) -> None:
        self.revisions_menu.clear()
        if self.paper_id is None:
            return
        self.flush()
        revisions = self.lib.notes.history(self.paper_id)
        if not revisions:
            self.revisions_menu.addAction("No saved revisions yet").setEnabled(False)
        for rev in revisions[:30]:
            first = (rev.body.strip().splitlines() or ["(empty)"])[0][:50]
            action = self.revisions_menu.addAction(f"{rev.saved_at[:19].replace('T', ' ')}  —  {first}")
            action.triggered.connect(lambda _c=False, r=rev.id: self.restore(r))

    def restore(self, revision_id: int) -> None:
        pid = self.paper_id
        if pid is None:
            return
        self.flush()
        self._write("Restore note", lambda lib: lib.notes.restore(pid, revision_id), None)
