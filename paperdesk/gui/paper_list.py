"""What the list shows and when to re-query it: view + sort + search query -> ids for the model."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from paperdesk.core import Library
from paperdesk.core.changes import Changes
from paperdesk.gui.paper_model import PaperModel
from paperdesk.gui.qt import QObject, Signal
from paperdesk.gui.views import INBOX, View

SEARCH_LIMIT = 1000
NATURAL_DESCENDING = {"date", "added", "upvotes"}  # the library's order for these is newest/most first


@dataclass
class SearchOutcome:
    ids: list[str] = field(default_factory=list)
    snippets: dict[str, str] = field(default_factory=dict)
    total: int = 0
    message: str = ""


def run_search(lib: Library, query: str, limit: int = SEARCH_LIMIT, engine: bool = True) -> SearchOutcome:
    """`lib.search` when the search engine is there (and its index ready), else a plain title match."""
    if engine and hasattr(lib, "search"):
        try:
            result = lib.search(query, limit=limit)
        except Exception as exc:  # a broken query is a status-bar message, not a crash
            return SearchOutcome(message=f"search failed: {exc}")
        hits = list(result.hits)
        notes = list(getattr(result, "problems", None) or [])
        if getattr(result, "suggestion", None):
            notes.append(f"did you mean: {result.suggestion}")
        return SearchOutcome(
            ids=[h.id for h in hits], snippets={h.id: h.snippet for h in hits if h.snippet},
            total=getattr(result, "total", len(hits)), message="; ".join(notes))
    pattern = "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    ids = [r[0] for r in lib.conn.execute(
        "SELECT id FROM papers WHERE title LIKE ? ESCAPE '\\' ORDER BY published DESC LIMIT ?",
        (pattern, limit))]
    return SearchOutcome(ids=ids, total=len(ids), message="")


class PaperList(QObject):
    """Holds the current view, sort and query; feeds the model; reacts to `Changes`."""

    reloaded = Signal()  # the model got a new id list
    searched = Signal(object)  # SearchOutcome after a query ran

    def __init__(self, lib: Library, model: PaperModel, parent: QObject | None = None):
        super().__init__(parent)
        self.lib = lib
        self.model = model
        self.view: View = INBOX
        self.order = "date"
        self.ascending = False
        self.query = ""
        self.last_search: SearchOutcome | None = None
        self._id_cache: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
        self.queries_run = 0  # id queries that hit the database (for tests)
        self.search_ready = True  # False while the writer builds the search index
        self.fresh_list = False  # a new view or query: start at the top instead of keeping the paper

    # -- state --------------------------------------------------------------------------------
    def set_view(self, view: View) -> None:
        self.view = view
        self.fresh_list = True
        self.reload()

    def set_sort(self, order: str, ascending: bool) -> None:
        self.order, self.ascending = order, ascending
        self.reload()

    def set_query(self, query: str) -> None:
        query = query.strip()
        if query == self.query:
            return
        self.query = query
        self.fresh_list = True
        self.reload()

    @property
    def searching(self) -> bool:
        return bool(self.query or self.view.query)

    # -- loading ------------------------------------------------------------------------------
    def _view_ids(self) -> list[str]:
        key = (self.view.key, self.order)
        ids = self._id_cache.get(key)
        if ids is None:
            ids = self.view.ids(self.lib, self.order)
            self.queries_run += 1
            self._id_cache[key] = ids
            while len(self._id_cache) > 8:
                self._id_cache.popitem(last=False)
        else:
            self._id_cache.move_to_end(key)
        natural_desc = self.order in NATURAL_DESCENDING
        return ids[::-1] if self.ascending == natural_desc else ids

    def reload(self) -> None:
        if self.searching:
            query = " ".join(q for q in (self.view.query, self.query) if q)
            outcome = run_search(self.lib, query, engine=self.search_ready)
            outcome.ids = self.view.within(self.lib, outcome.ids)
            self.last_search = outcome
            self.model.set_ids(outcome.ids, outcome.snippets)
            self.searched.emit(outcome)
        else:
            self.last_search = None
            self.model.set_ids(self._view_ids())
        self.reloaded.emit()

    # -- changes ------------------------------------------------------------------------------
    def membership_may_change(self, changes: Changes) -> bool:
        if changes.added or changes.removed or self.searching:
            return bool(changes.added or changes.removed or changes.papers)
        if not changes.papers:
            return False
        if len(changes.papers) > 2000:
            return True
        for row in self.lib.rows(sorted(changes.papers)):
            belongs = self.view.matches_row(row)
            if belongs is not None and belongs != (self.model.row_of(row["id"]) is not None):
                return True
        return False

    def apply(self, changes: Changes) -> None:
        if not (changes.papers or changes.added or changes.removed):
            return
        requery = self.membership_may_change(changes)
        self._id_cache.clear()  # other views (Starred, a tag…) may be stale now
        if requery:
            self.reload()
        else:
            self.model.apply(changes)
