"""Caret mode: choose words of the reader's title or abstract with the keys, then highlight them.

`v` puts the keys on the reader's page with its first abstract word selected (the mode label says
CARET); the caret map (core `keymap`) moves the selection by word or line, extends or shrinks it,
and `h` highlights it (`c` with a comment). The selection always holds whole words (core `word_bounds`),
so what is highlighted is what the user saw selected. Leaving the page ends the mode.
"""

from __future__ import annotations

from collections.abc import Callable

from paperdesk.core.word_bounds import word_spans
from paperdesk.gui.keys import KeyDispatcher
from paperdesk.gui.qt import QTextCursor
from paperdesk.gui.reader import Reader


class ReaderCaret:
    def __init__(self, reader: Reader, keys: KeyDispatcher, status: Callable[..., None],
                 mode_changed: Callable[[], None]):
        self.reader, self.keys, self.status = reader, keys, status
        self.mode_changed = mode_changed  # the mode label says CARET, or NORMAL again
        self.words: list[tuple[int, int]] = []  # page offsets of the highlightable words
        self.first = self.last = 0  # the selected words (inclusive)
        self.active = False
        self.paper_id: str | None = None
        self.page = reader.browser
        # The page is drawn again when its paper changes (marked read, a highlight, a note).
        self.page.textChanged.connect(self._page_changed)

    def _words(self) -> tuple[list[tuple[int, int]], int]:
        """The title's and abstract's words on the page, and where the abstract starts."""
        regions = self.reader.highlightable_regions()
        text = self.page.document().toPlainText()
        words = [span for _field, start, end in regions for span in word_spans(text, start, end)]
        return words, next((start for field, start, _end in regions if field == "abstract"), 0)

    def start(self) -> None:
        if self.reader.showing_pdf:
            self.status("Caret mode chooses words of the title and abstract: p shows them")
            return
        self.words, abstract = self._words()
        if not self.words:
            self.status("Nothing to highlight: this paper has no title or abstract text")
            return
        self.paper_id = self.reader.paper_id
        self.first = self.last = next((i for i, (s, _e) in enumerate(self.words) if s >= abstract), 0)
        self.active = True
        self.keys.set_mode(self.page, "caret")
        self.page.setFocus()
        self._show()
        self.mode_changed()
        self.status("Caret: w/b next/previous word, j/k line, W/B extend/shrink, h highlights, "
                    "c highlights with a comment, Esc leaves", 0)

    def stop(self) -> None:
        if not self.active:
            return
        self.active = False
        self.keys.set_mode(self.page, "normal")
        self.status("")
        self.mode_changed()

    def _page_changed(self) -> None:
        if not self.active:
            return
        if self.reader.paper_id != self.paper_id:
            self.stop()
            return
        self.words, _abstract = self._words()  # the same paper drawn again: the same words
        if not self.words:
            self.stop()
            return
        self.first, self.last = self._clamp(self.first), self._clamp(self.last)
        self._show()

    def _clamp(self, i: int) -> int:
        return max(0, min(len(self.words) - 1, i))

    def move(self, step: int) -> None:
        """The next (or previous) word alone."""
        self.first = self.last = self._clamp((self.last if step > 0 else self.first) + step)
        self._show()

    def extend(self, step: int) -> None:
        """One more (or one fewer) word at the end; at least the first stays."""
        self.last = max(self.first, self._clamp(self.last + step))
        self._show()

    def line(self, step: int) -> None:
        """The word under the caret one line down (or up), as the page lays it out."""
        cursor = QTextCursor(self.page.document())
        cursor.setPosition(self.words[self.last if step > 0 else self.first][0])
        op = QTextCursor.MoveOperation.Down if step > 0 else QTextCursor.MoveOperation.Up
        if not cursor.movePosition(op):
            return
        pos = cursor.position()
        # the word holding pos, else the nearest after it (before it when going up past the end)
        after = [i for i, (_s, e) in enumerate(self.words) if e > pos]
        target = after[0] if after else len(self.words) - 1
        if (step > 0 and target <= self.last) or (step < 0 and target >= self.first):
            return  # no line in that direction among the highlightable words
        self.first = self.last = target
        self._show()

    def _show(self) -> None:
        cursor = QTextCursor(self.page.document())
        cursor.setPosition(self.words[self.first][0])
        cursor.setPosition(self.words[self.last][1], QTextCursor.MoveMode.KeepAnchor)
        self.page.setTextCursor(cursor)
        self.page.ensureCursorVisible()
