"""The paper list: a table model over a list of ids, rows fetched lazily in pages and cached.

100k ids cost a Python tuple; only the pages the view paints are read with `lib.rows`. A `Changes`
value updates just the affected rows; the caller re-queries ids when membership may have changed.

Id lists are tuples, never lists: the collector stops tracking a tuple of strings at its first
collection, while every full collection walks a list's 100k items (~15 ms a list at 100k papers,
most of it cache misses on the strings, with the GIL held).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence

from paperdesk.core import Library
from paperdesk.core.changes import Changes
from paperdesk.core.limits import capped
from paperdesk.core.reader_html import SHOWN_FIELD_CHARS, SHOWN_TITLE_CHARS, snippet_text
from paperdesk.core.texchars import tex_to_unicode
from paperdesk.core.words import count_of
from paperdesk.gui.lazy_ids import LazyIds
from paperdesk.gui.packed_ids import PackedIds
from paperdesk.gui.qt import QAbstractTableModel, QFont, QModelIndex, QPersistentModelIndex, Qt
from paperdesk.gui.theme import icon

PAGE = 100
MAX_PAGES = 64  # cache bound: 6,400 rows
ID_ROLE = Qt.ItemDataRole.UserRole + 1
STARRED_ROLE = Qt.ItemDataRole.UserRole + 2

# (key, header, sort order in the library or None)
COLUMNS = (
    ("star", "★", None),
    ("title", "Title", "title"),
    ("who", "Org / authors", None),
    ("date", "Date", "date"),
    ("upvotes", "▲", "upvotes"),
    ("tags", "Tags", None),
    ("marks", "✎", None),
)
COLUMN_KEYS = [c[0] for c in COLUMNS]
SORT_COLUMN = {c[2]: n for n, c in enumerate(COLUMNS) if c[2]}
_STAR_COLUMN, _TITLE_COLUMN = COLUMN_KEYS.index("star"), COLUMN_KEYS.index("title")
_MARKS_COLUMN = COLUMN_KEYS.index("marks")
_FULL_TEXT_TIPS = {COLUMN_KEYS.index("tags"), COLUMN_KEYS.index("who")}
MARKS_LEGEND = "✎ the paper has a note, ▍ it has highlights, ↻ arXiv updated it after you decided"
ALIGNMENT = tuple(Qt.AlignmentFlag.AlignCenter if key in ("star", "marks") else
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter if key == "upvotes" else None
                   for key in COLUMN_KEYS)
_ID, _DISPLAY, _FONT, _TOOLTIP, _ALIGN, _DECORATION, _STARRED = range(7)
_ROLE_KIND = {int(ID_ROLE): _ID, int(Qt.ItemDataRole.DisplayRole): _DISPLAY,
              int(Qt.ItemDataRole.FontRole): _FONT, int(Qt.ItemDataRole.ToolTipRole): _TOOLTIP,
              int(Qt.ItemDataRole.TextAlignmentRole): _ALIGN,
              int(Qt.ItemDataRole.DecorationRole): _DECORATION, int(STARRED_ROLE): _STARRED}
_CELLS = "_cells"  # a fetched row's display texts, made on first paint


def who_text(row: dict) -> str:
    if row.get("organization"):
        return capped(row["organization"], SHOWN_FIELD_CHARS)
    count = row.get("authors_count")
    return count_of(count, "author") if count else ""


def _title(row: dict) -> str:
    # Capped: a row stored before the store capped titles may hold megabytes (eliding them is slow).
    return tex_to_unicode(capped(row.get("title") or "", SHOWN_TITLE_CHARS))


class PaperModel(QAbstractTableModel):
    def __init__(self, lib: Library, parent=None):
        super().__init__(parent)
        self.lib = lib
        self._ids: tuple[str, ...] | PackedIds | LazyIds = ()
        self._pages: OrderedDict[int, list[dict | None]] = OrderedDict()
        self._recent: dict[str, dict] = {}  # rows read for the previous list, by id (see set_ids)
        self._snippets: Mapping[str, str] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self._archived = QFont()  # an archived paper in a mixed view (the delegate also dims it)
        self._archived.setItalic(True)
        self._archived_unread = QFont(self._bold)
        self._archived_unread.setItalic(True)
        # The view mixes inbox and archived papers (All, Starred, a tag, a digest, a search):
        # archived rows are shown as such.
        self.mixed_status = False
        self.star_icon = icon("star-filled")

    # -- ids ----------------------------------------------------------------------------------
    @property
    def ids(self) -> tuple[str, ...] | PackedIds | LazyIds:
        return self._ids

    def set_ids(self, ids: Sequence[str], snippets: Mapping[str, str] | None = None) -> None:
        """A new list. Rows already read keep serving their papers at their new places (a list
        re-read after an import mostly shows the same papers): only unseen ones are read again."""
        self.beginResetModel()
        self._recent = {row["id"]: row for page in self._pages.values() for row in page if row is not None}
        self._ids = ids if isinstance(ids, LazyIds | PackedIds) else tuple(ids)  # (a tuple is kept)
        self._pages.clear()
        self._snippets = snippets or {}
        self.endResetModel()

    def complete_ids(self, ids: PackedIds) -> bool:
        """The whole list for the `LazyIds` shown, when it agrees with it: no reset, no repaint
        (the rows read and the rows shown stay). False if it does not (then use `set_ids`)."""
        shown = self._ids
        if not isinstance(shown, LazyIds) or not shown.agrees(ids):
            return False
        if shown.complete and shown.full() != ids:  # read here meanwhile, and the library moved
            return False
        self._ids = ids
        return True

    @property
    def snippets(self) -> Mapping[str, str]:
        return self._snippets

    def row_of(self, paper_id: str) -> int | None:
        """One lookup: a C-speed scan beats building a 100k-entry dict (a packed list: one bytes.find)."""
        try:
            return self._ids.index(paper_id)
        except ValueError:
            return None

    def id_at(self, row: int) -> str | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def snippet(self, paper_id: str) -> str | None:
        return self._snippets.get(paper_id)

    # -- rows ---------------------------------------------------------------------------------
    def row_data(self, row: int) -> dict | None:
        page_no, offset = divmod(row, PAGE)
        page = self._pages.get(page_no)
        if page is None:
            page = self._fetch_page(page_no)
        else:
            self._pages.move_to_end(page_no)
        if page[offset] is None and self._ids[row] is not None:  # changed: re-read just that row
            found = self.lib.rows([self._ids[row]])
            page[offset] = found[0] if found else {"id": self._ids[row], "title": "(deleted)"}
        return page[offset]

    def _fetch_page(self, page_no: int) -> list[dict | None]:
        ids = self._ids[page_no * PAGE:(page_no + 1) * PAGE]
        recent = self._recent
        by_id = {i: recent[i] for i in ids if i in recent}
        missing = [i for i in ids if i is not None and i not in by_id]
        if missing:
            by_id.update((r["id"], r) for r in self.lib.rows(missing))
        # (None: a row past the end of a list that shrank, until its re-query replaces it)
        page: list[dict | None] = [by_id.get(i) or {"id": i, "title": "(deleted)" if i else ""} for i in ids]
        self._pages[page_no] = page
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        return page

    def cached_rows(self) -> int:
        return sum(len(p) for p in self._pages.values())

    # -- Qt model API -------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        if role == Qt.ItemDataRole.ToolTipRole:
            return {"star": "Starred", "upvotes": "Upvotes", "marks": MARKS_LEGEND,
                    "tags": "Tags (hover a row for all of them)"}.get(COLUMNS[section][0])
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        # Called ~1,500 times per painted screen: one dict lookup per role (Qt's enum compares
        # cost microseconds each) and the row's texts made once per fetch, not once per paint.
        kind = _ROLE_KIND.get(role)
        if kind is None or not index.isValid():
            return None
        r = index.row()
        if kind == _ID:
            return self._ids[r]
        c = index.column()
        if kind == _ALIGN:
            return ALIGNMENT[c]
        row = self.row_data(r)
        if kind == _DISPLAY:
            return self.cells(row)[c]
        if kind == _FONT:
            if self.mixed_status and row.get("status") == "archived":
                return self._archived_unread if row.get("is_read") == 0 else self._archived
            return self._bold if row.get("is_read") == 0 else None
        if kind == _DECORATION:
            return self.star_icon if c == _STAR_COLUMN and row.get("starred") else None
        if kind == _STARRED:
            return bool(row.get("starred"))
        if c == _TITLE_COLUMN:  # the tooltip
            snippet = self._snippets.get(row["id"])
            text = snippet_text(snippet) if snippet else _title(row)
            return f"Archived · {text}" if row.get("status") == "archived" else text
        if c == _MARKS_COLUMN:
            marks = [what for what, has in (("a note", row.get("has_note")),
                                            ("highlights", row.get("has_highlight"))) if has]
            tips = [f"Has {' and '.join(marks)}"] if marks else []
            if row.get("updated_note"):  # "v3, updated after you archived v1"
                tips.append(f"arXiv {capped(row['updated_note'], SHOWN_FIELD_CHARS)}")
            return f"{'; '.join(tips)} ({MARKS_LEGEND})" if tips else None
        if c in _FULL_TEXT_TIPS:  # what an elided cell hides
            return self.cells(row)[c] or None
        return None

    def cells(self, row: dict) -> tuple[str, ...]:
        """A fetched row's display text per column, made on first paint."""
        cells = row.get(_CELLS)
        if cells is None:
            cells = row[_CELLS] = tuple(self._display(row, key) for key in COLUMN_KEYS)
        return cells

    @staticmethod
    def _display(row: dict, key: str) -> str:
        if key == "title":
            return _title(row)
        if key == "who":
            return who_text(row)
        if key == "date":
            return row.get("published") or ""
        if key == "upvotes":
            return "" if row.get("upvotes") is None else str(row["upvotes"])
        if key == "tags":
            return " ".join(f"#{t}" for t in (row.get("tag_list") or "").split())
        if key == "marks":
            return (("✎" if row.get("has_note") else "") + ("▍" if row.get("has_highlight") else "")
                    + ("↻" if row.get("updated_note") else ""))
        return ""

    # -- changes ------------------------------------------------------------------------------
    def refresh_rows(self, ids: frozenset[str] | set[str]) -> int:
        """Forget the cached rows of `ids` and repaint them; returns how many were cached. Only rows
        of cached pages can be on screen (painting reads them), so only those are looked at: no
        search of a list of a million ids."""
        shown = 0
        last = len(COLUMNS) - 1
        self._forget_recent(ids)
        for page_no, page in self._pages.items():
            for n, row in enumerate(page):
                if row is not None and row["id"] in ids:
                    shown += 1
                    page[n] = None
                    at = page_no * PAGE + n
                    self.dataChanged.emit(self.index(at, 0), self.index(at, last))
        return shown

    def forget_rows(self, ids: frozenset[str] | set[str]) -> None:
        """Forget the cached rows of `ids` and repaint what is visible, with one signal: for big
        changes (an import touches thousands of papers, few of them cached)."""
        for page in self._pages.values():
            for n, row in enumerate(page):
                if row is not None and row["id"] in ids:
                    page[n] = None
        self._forget_recent(ids)
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(COLUMNS) - 1))

    def _forget_recent(self, ids: frozenset[str] | set[str]) -> None:
        """Drop changed papers from the rows kept for the list's unread pages (see set_ids)."""
        for pid in ids & self._recent.keys():
            del self._recent[pid]

    def apply(self, changes: Changes) -> None:
        ids = changes.papers | changes.removed
        if changes.everything:
            self._pages.clear()
            self._recent.clear()
            if self._ids:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(COLUMNS) - 1))
        elif len(ids) > 200:
            self.forget_rows(ids)
        else:
            self.refresh_rows(ids)
