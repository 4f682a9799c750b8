"""The list's current paper, its selection and the marks (`x`): what a paper command acts on, and
moving through the list."""

from __future__ import annotations

import itertools

from paperdesk.gui.paper_model import COLUMN_KEYS, PaperModel
from paperdesk.gui.paper_table import PaperTable
from paperdesk.gui.qt import QLabel

TITLE_COLUMN = COLUMN_KEYS.index("title")


class Selection:
    def __init__(self, table: PaperTable, model: PaperModel, marked: set[str]):
        self.table = table
        self.model = model
        self.marked = marked  # shared with the table, which paints them
        self.marked_label = QLabel()
        # Papers to make current once the list is read again (an undo in a search view brings a paper
        # back only when the search has run again); one reload's worth, then forgotten.
        self.after_reload: tuple[str, ...] = ()

    def current_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.id_at(index.row()) if index.isValid() else None

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        ids = [self.model.id_at(r) for r in rows]
        if not ids and self.current_id():
            ids = [self.current_id()]
        return [i for i in ids if i]

    def targets(self) -> list[str]:
        """What a paper command acts on: the marked papers if any, else the selection / current paper."""
        return sorted(self.marked) if self.marked else self.selected_ids()

    def move_to_row(self, row: int) -> None:
        """Make a row current (negative: the last) and scroll to it."""
        n = self.model.rowCount()
        if n:
            row = n - 1 if row < 0 else min(row, n - 1)
            self.table.setCurrentIndex(self.model.index(row, TITLE_COLUMN))
            self.table.scrollTo(self.model.index(row, 0))

    def select_id(self, paper_id: str) -> bool:
        row = self.model.row_of(paper_id)
        if row is None:
            return False
        self.move_to_row(row)
        return True

    def select_first_listed(self, ids) -> bool:
        """Make the highest listed of `ids` current; False when none is listed."""
        rows = [r for r in map(self.model.row_of, ids) if r is not None]
        if rows:
            self.move_to_row(min(rows))
        return bool(rows)

    def move_current(self, step: int) -> None:
        row = self.table.currentIndex().row()
        self.move_to_row(0 if row < 0 else max(0, row + step))

    def next_not_in(self, row: int, leaving: set[str]) -> str | None:
        """The first paper below `row` not in `leaving`, else the nearest one above it."""
        n = self.model.rowCount()
        for r in itertools.chain(range(row + 1, n), range(row - 1, -1, -1)):  # (not a list of every row)
            pid = self.model.id_at(r)
            if pid is not None and pid not in leaving:
                return pid
        return None

    # -- marks ----------------------------------------------------------------------------------
    def toggle_mark(self) -> None:
        pid = self.current_id()
        if pid is None:
            return
        self.marked.symmetric_difference_update({pid})
        self.model.refresh_rows({pid})
        self._show_marked()

    def clear_marks(self) -> None:
        shown = set(self.marked)
        self.marked.clear()
        self.model.refresh_rows(shown)
        self._show_marked()

    def done_with(self, ids: list[str]) -> None:
        """A bulk command acted on `ids`: if they were the marks, the marks go."""
        if self.marked and set(ids) == self.marked:
            self.clear_marks()

    def _show_marked(self) -> None:
        n = len(self.marked)
        self.marked_label.setText(f"{n} marked" if n else "")
