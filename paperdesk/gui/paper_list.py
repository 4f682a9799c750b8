"""What the list shows and when to re-query it: view + sort + search query -> ids for the model.

One read path: every id list, search and count the list shows is a request to the reader thread
(`reader_thread.py`, its own read-only connection), whatever the view's size; the answer replaces
the list unless something newer was asked meanwhile (`busy` until then). The GUI thread only reads
rows by id (a page of the list, the few papers a change names). A view's first `HEAD_ROWS` ids come
first; a longer view is shown with its size (`LazyIds`) while a second reader, the completer, reads
the whole list, so a search never waits behind it. A view listed before and unchanged since is shown
at once from the id cache.

A `Changes` value is applied as cheaply as possible:

- rows that changed but stay in the view are only repainted;
- a few papers leaving or entering the view (archive, star, undo) are patched into the id list
  (entering ones at their sorted place, found by bisecting with `lib.sort_keys`);
- anything bigger (an import, a search that must run again) asks the reader again.

In interest order ("For you", `order == "interest"`) the list is ranked on the ranker thread (a
third reader whose Library keeps `lib.ranker` warm: features loaded, models trained; the first
ranking featurises the library, ~10-25 s at 100k papers, and no search waits behind it meanwhile).
The ranked list is then left alone: changes
repaint rows and drop papers that left the view, but never re-sort it under the user's cursor;
it is ranked again only when asked (`rank_again`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from paperdesk.core import Library
from paperdesk.core.changes import Changes
from paperdesk.core.idlist import RowIndex, encoded_in_slices
from paperdesk.core.orders import NEWEST_FIRST
from paperdesk.core.view_filter import ViewFilter
from paperdesk.gui.gil import freeze_long_lived
from paperdesk.gui.lazy_ids import LazyIds
from paperdesk.gui.packed_ids import PackedIds
from paperdesk.gui.paper_model import PaperModel
from paperdesk.gui.qt import QObject, Signal
from paperdesk.gui.reader_thread import ReaderThread
from paperdesk.gui.views import INBOX, View

SEARCH_LIMIT = 1000
# Words in these fields rank a search by relevance; others (digest:, tag:, author:…) only filter, and
# their scores say nothing: such a search is shown in the header's order.
RANKING_FIELDS = (None, "title", "abstract", "note", "fulltext")
RANKER_IDLE_S = 600.0  # the ranker thread keeps its models this long after its last request
MAX_PATCH = 200  # more papers entering or leaving than this: re-query instead of patching
MAX_CACHED_IDS = 3_000_000  # ids kept in the id cache (packed: ~20 MB a million; its newest list always)
HEAD_ROWS = 2000  # a view's first rows, read first: ~60 screens, so paging down never waits for the rest


@dataclass
class SearchOutcome:
    ids: list[str] = field(default_factory=list)
    snippets: Mapping[str, str] = field(default_factory=dict)  # made lazily, as rows are shown
    total: int = 0
    message: str = ""
    more: bool = False  # more papers match than are listed (the best SEARCH_LIMIT are), or may
    order: str | None = None  # the order the ids are in, when the query chose it (relevance, sort:)
    ranking: str = ""  # sort:interest: how the order was made ("Ranked by a model of your interest…")


def query_order(query: str) -> tuple[str | None, bool]:
    """The order a query asks for itself: its `sort:`, else relevance when it has words that rank;
    None when it only filters (then the list follows the header). And whether it has words at all
    (a query of filters matched no text: its hits have no snippet to show)."""
    from paperdesk.core.search import querylang as ql

    parsed = ql.parse(query, typing=False)
    if parsed.sort:
        return parsed.sort, parsed.has_text
    ranked = any(isinstance(n, ql.Word | ql.Phrase) and n.field in RANKING_FIELDS
                 for n in ql.positive_nodes(parsed.root))
    return ("relevance" if ranked else None), parsed.has_text


def sort_ids(lib: Library, order: str, ascending: bool, ids: Sequence[str],
             source_id: int | None = None) -> list[str]:
    """`ids` in a header order (`digest`: their places in digest `source_id`)."""
    return lib.sort_ids(ids, order, reverse=against_library(order, ascending), source_id=source_id)


def against_library(order: str, ascending: bool) -> bool:
    """Whether the header's (order, ascending) runs against the library's order (newest or most
    first for dates and upvotes, A to Z and the digest's first first for the others)."""
    return ascending == (order in NEWEST_FIRST)


def run_search(lib: Library, query: str, limit: int | None = None, engine: bool = True,
               view: View | None = None) -> SearchOutcome:
    """`lib.search.run` when the index is built (never draining its queue here: that is the writer's job),
    else a plain title match; with `view`, only its papers (the view's best and its count)."""
    # Only an index of this version: opening it never rebuilds (a rebuild is the writer's job, see
    # jobs.py; the reader's connection is read-only).
    if engine and lib.search.current():
        try:
            result = lib.search.run(query, limit=limit or SEARCH_LIMIT, drain=False,
                                    within=ViewFilter(**view.filters) if view is not None else None)
        except Exception as exc:  # a broken query is a status-bar message, not a crash
            return SearchOutcome(message=f"search failed: {exc}")
        hits = result.hits
        notes = list(result.problems)
        if result.suggestion:
            notes.append(f"did you mean: {result.suggestion}")
        return SearchOutcome(
            ids=[h.id for h in hits], snippets=result.snippets,
            total=result.total, message="; ".join(notes),
            more=result.total > len(hits), order=result.sort,
            ranking=result.ranking or "")
    ids = lib.search.by_title(query, limit or SEARCH_LIMIT)
    if view is not None:
        ids = view.within(lib, ids)
    return SearchOutcome(ids=ids, total=len(ids), message="")


def order_search(lib: Library, outcome: SearchOutcome, query: str, view: View,
                 header: tuple[str, bool, bool]) -> None:
    """Put the hits in the order the list says it shows: the query's own (relevance, sort:)
    unless the header (order, ascending, clicked during this search) was clicked since, else
    the header's."""
    order, ascending, chosen = header
    own, has_text = query_order(query)
    if not has_text:  # (SQLite answers carry the abstract's start as a snippet)
        outcome.snippets = {}
    if own is not None and not chosen:
        outcome.order = own
        return
    outcome.order = None
    outcome.ids = sort_ids(lib, order, ascending, outcome.ids, view.source_id)


def whole_view(lib: Library, view: View, order: str) -> PackedIds:
    """A view's whole id list, packed (a million ids: ~20 MB, no object per id)."""
    return PackedIds(lib.paper_ids_joined(order=order, **view.filters))


def interest_query(query: str) -> str:
    """The query ranked by interest (a later `sort:` wins over the query's own)."""
    return f"{query} sort:interest"


def rank_view(lib: Library, view: View, query: str, engine: bool) -> SearchOutcome:
    """The view (and search) in interest order, with the ranker's sentence: on the reader thread."""
    if query:
        outcome = run_search(lib, interest_query(query), engine=engine, view=view)
        if outcome.order != "interest":  # no index yet: a title match, ranked here
            ranked = lib.ranker.rank(outcome.ids)
            outcome.ids, outcome.ranking = ranked.ids, ranked.message
        outcome.order = "interest"
        return outcome
    ranked = lib.ranker.rank(view.ids(lib, "date"))
    return SearchOutcome(ids=ranked.ids, total=len(ranked.ids), order="interest", ranking=ranked.message)


class PaperList(QObject):
    """Holds the current view, sort and query; feeds the model; reacts to `Changes`."""

    reloaded = Signal()  # the model got a new id list
    searched = Signal(object)  # SearchOutcome after a query ran
    ranked = Signal(str)  # interest order: the ranker's sentence, or "" when ranking starts

    def __init__(self, lib: Library, model: PaperModel, parent: QObject | None = None):
        super().__init__(parent)
        self.lib = lib
        self.model = model
        self.view: View = INBOX
        self.order = "date"  # the header's choice ("digest": a digest's own order, in digest views)
        self.ascending = False
        self.header_chosen = False  # the header was clicked during this search: its order wins
        self.query = ""
        self.last_search: SearchOutcome | None = None
        # Lists shown before, by (view, order, reversed), until a change (see paper_model)
        self._id_cache: OrderedDict[tuple[str, str, bool], Sequence[str]] = OrderedDict()
        self.search_ready = True  # False while the writer builds the search index
        self.fresh_list = False  # a new view or query: start at the top instead of keeping the paper
        self.head_rows = HEAD_ROWS
        self._sizes: dict[str, int] = {}  # view sizes by view key, until a change
        self._generation = 0  # changes applied so far: a list or count read before one is stale
        self.ranking = ""  # interest order: how the list shown was ranked
        self.rank_stale = False  # interest order: papers changed since the list was ranked
        # Interest order: each paper's place when ranked, as a RowIndex of the ranked ids made on the
        # ranker thread (a {id: place} dict of 666k ids took ~390 ms on the GUI thread at 1M papers)
        self._ranked_at: RowIndex | dict[str, int] = {}
        self.reader = ReaderThread(lib.folder, self)
        self.completer = ReaderThread(lib.folder, self)  # big views' whole lists: never queued behind
        # a search, and a search never behind them
        self.ranker = ReaderThread(lib.folder, self, idle_exit_s=RANKER_IDLE_S)  # interest order,
        # explanations, tag suggestions, retraining: its Library's ranker stays warm
        self.ranker_warm = any((lib.folder / "rank").glob("v*.npz"))  # features on disk: cheap to load

    def warm_search(self) -> None:
        """Open the search index on the reader thread before the first keystroke needs it (Whoosh,
        numpy and the index's per-document arrays: a few hundred ms at 100k papers); then what
        the desk keeps for good is alive, and is frozen out of full garbage collections."""
        def warm(rlib: Library) -> None:
            rlib.search.warm()

        # The freeze is process-wide: done here, on the GUI thread (see gui/gil.py).
        # In the background: the first list is read first (opening a 1M index takes ~1 s).
        self.reader.submit("warm", warm, lambda _value, _error: freeze_long_lived(), background=True)

    # -- state --------------------------------------------------------------------------------
    def set_view(self, view: View) -> None:
        self.view = view
        self.model.mixed_status = view.status is None  # archived rows look archived (see the delegate)
        self.fresh_list = True
        self.reload()

    def set_sort(self, order: str, ascending: bool) -> None:
        self.order, self.ascending = order, ascending
        self.header_chosen = self.searching
        self.reload()

    @property
    def by_interest(self) -> bool:
        return self.order == "interest"

    def rank_again(self) -> None:
        """Interest order ("For you"): rank the view now, also when it is already in that order."""
        self.order, self.ascending = "interest", False
        self.fresh_list = True
        self.reload()

    @property
    def list_order(self) -> str:
        """The header's order as this view can follow it (a digest's order only in a digest view)."""
        return "date" if self._no_digest_here else self.order

    @property
    def list_ascending(self) -> bool:
        return False if self._no_digest_here else self.ascending

    @property
    def _no_digest_here(self) -> bool:
        return self.order == "digest" and self.view.source_id is None

    @property
    def shown_order(self) -> tuple[str, bool]:
        """(order, ascending) the list is shown in: the header's, or the search's own (relevance,
        sort:) when the query chose one and the header was not clicked since."""
        if self.by_interest:
            return "interest", False
        found = self.last_search
        if self.searching and found is not None and found.order and not self.header_chosen:
            return found.order, False
        return self.list_order, self.list_ascending

    def set_query(self, query: str) -> None:
        query = query.strip()
        if query == self.query:
            return
        self.query = query
        self.header_chosen = False
        self.fresh_list = bool(query)  # new results start at the top; a cleared search keeps the paper
        self.reload()

    @property
    def searching(self) -> bool:
        return bool(self.query or self.view.query)

    @property
    def full_query(self) -> str:
        return " ".join(q for q in (self.view.query, self.query) if q)

    @property
    def reversed(self) -> bool:
        """Whether the shown list runs against the library's order (which is newest/most first)."""
        if self.by_interest:
            return False
        return against_library(self.list_order, self.list_ascending)

    @property
    def busy(self) -> bool:
        """A background re-query is under way (its answer will replace the list)."""
        return self.reader.pending("list") or self.ranker.pending("list")

    @property
    def completing(self) -> bool:
        """A big view's whole list is being read for the first rows shown (nothing will move)."""
        return self.completer.pending("complete")

    @property
    def generation(self) -> int:
        """Changes applied so far: counts or lists read before a change are stale."""
        return self._generation

    def note_counts(self, counts: Mapping[str, int], generation: int) -> None:
        """View sizes counted elsewhere (the sidebar's), valid if no change came since: a big view
        shown lazily needs its size, and a count of 100k papers takes 7-45 ms here."""
        if generation == self._generation:
            self._sizes.update(counts)

    def close(self) -> None:
        self.reader.close()
        self.completer.close()
        self.ranker.close()

    # -- loading: every list is a reader request ------------------------------------------------
    def reload(self) -> None:
        """Ask for what the list shows now: the view's ids or the search's hits, read on the reader
        thread (the GUI thread runs no list, search or count query, whatever the view's size). The
        answer replaces the list unless something newer was asked meanwhile; a view listed before
        and unchanged since is shown at once from the id cache."""
        if self.by_interest:
            self._rank_in_background()
            return
        self.ranker.supersede("list")  # a pending ranking must not replace this answer
        key = (self.view.key, self.list_order, self.reversed)
        cached = None if self.searching else self._id_cache.get(key)
        if cached is not None:
            self._id_cache.move_to_end(key)
            self.reader.supersede("list")
            self._show_view_ids(cached)
            self.reloaded.emit()
            return
        view, order, query, engine = self.view, self.list_order, self.full_query, self.search_ready
        header = (self.list_order, self.list_ascending, self.header_chosen)
        reverse, head_rows, size = self.reversed, self.head_rows, self._sizes.get(view.key)
        generation = self._generation

        def work(rlib: Library) -> object:
            if query:
                outcome = run_search(rlib, query, engine=engine, view=view)
                if self.reader.superseded("list"):  # a newer keystroke waits: this answer is dropped
                    return outcome
                order_search(rlib, outcome, query, view, header)
                return outcome
            if reverse:  # listed in the library's order and shown backwards: the whole list
                return whole_view(rlib, view, order).reversed()
            # The head first: a view shorter than that is whole; a longer one is shown with its size
            # at once while the completer reads the rest (a search never waits behind it).
            head = tuple(view.ids(rlib, order, limit=head_rows))
            if len(head) < head_rows:
                return head
            return LazyIds(head, max(len(head), size if size is not None else view.count(rlib)))

        def done(value: object, error: str) -> None:
            if error:  # said in the status bar; the list shown stays until the next change or choice
                self.searched.emit(SearchOutcome(message=f"the list could not be read: {error}"))
                return
            if isinstance(value, SearchOutcome):
                self._show_search(value)
            elif isinstance(value, LazyIds):
                self.last_search = None
                self.model.set_ids(value)
                self._complete_in_background(value)
            else:
                ids: Sequence[str] = value  # type: ignore[assignment]
                if generation == self._generation:
                    self._remember((view.key, order, reverse), ids)
                self._show_view_ids(ids)
            self.reloaded.emit()

        self.reader.submit("list", work, done)

    def _show_view_ids(self, ids: Sequence[str]) -> None:
        self.last_search = None
        self.model.set_ids(ids)

    def _complete_in_background(self, lazy: LazyIds) -> None:
        """The whole list on the completer thread (a second reader: searches never wait for it):
        it completes `lazy` if still shown (no reset) and is kept in the id cache. A newer view's
        completion cancels it; a change in between has it read again while `lazy` is shown (a
        change that moved papers in or out has replaced `lazy` by then)."""
        view, order, generation = self.view, self.list_order, self._generation

        def read(rlib: Library) -> PackedIds:
            ids = None
            try:
                ids = whole_view(rlib, view, order)
                return ids
            finally:
                lazy.deliver(ids)  # from here: whoever waits for it on the GUI thread goes on at once

        def done(value: object, error: str) -> None:
            if error:
                return  # (LazyIds.full says so, should anything need the whole list)
            if generation != self._generation:
                if self.model.ids is lazy and not self.busy:  # (a pending re-query replaces it)
                    self._complete_in_background(lazy)
                return
            ids: PackedIds = value  # type: ignore[assignment]
            self._remember((view.key, order, False), ids)
            if self.model.ids is lazy and not self.model.complete_ids(ids):
                self.model.set_ids(ids)  # the size it was shown with was stale: the list as it is
                self.reloaded.emit()

        self.completer.submit("complete", read, done)

    def _remember(self, key: tuple[str, str, bool], ids: Sequence[str]) -> None:
        self._id_cache[key] = ids
        while len(self._id_cache) > 8 or (
                len(self._id_cache) > 1 and sum(map(len, self._id_cache.values())) > MAX_CACHED_IDS):
            self._id_cache.popitem(last=False)

    def _show_search(self, outcome: SearchOutcome) -> None:
        self.last_search = outcome
        self.model.set_ids(outcome.ids, outcome.snippets)
        if self.completing:  # a view's whole list nobody shows now: at 1M papers its ~2 s of reading
            self.completer.supersede("complete", stop_running=True)  # slowed the next keystrokes 2-5x
        self.searched.emit(outcome)

    def _rank_in_background(self) -> None:
        """Interest order, on the ranker thread (the ranker's numpy work and a first featurising
        never touch the GUI thread); the answer replaces the list unless the user moved on."""
        view, query, engine = self.view, self.full_query, self.search_ready
        self.ranking, self.rank_stale = "", False
        self.reader.supersede("list")  # a pending re-query in another order must not replace it
        self.ranked.emit("")

        def done(value: object, error: str) -> None:
            if not self.by_interest or (self.view, self.full_query) != (view, query):
                return  # the user moved on meanwhile
            self.ranker_warm = True
            if error:
                self.ranked.emit(f"Could not rank by interest: {error}")
                return
            outcome, self._ranked_at = value  # type: ignore[misc]
            self.ranking = outcome.ranking
            if query:
                self._show_search(outcome)
            else:
                self.last_search = None
                self.model.set_ids(tuple(outcome.ids))
            self.reloaded.emit()
            self.ranked.emit(self.ranking)

        def work(rlib: Library) -> tuple[SearchOutcome, RowIndex]:
            outcome = rank_view(rlib, view, query, engine)
            return outcome, RowIndex(encoded_in_slices(outcome.ids))

        self.ranker.submit("list", work, done)

    def _apply_in_place(self, changes: Changes) -> None:
        """Interest order: repaint, drop papers that left the view and put back ones that return at
        their ranked place (undo), never re-sort; new papers wait for the next ranking."""
        self.model.apply(changes)
        self.rank_stale = True
        if changes.everything:  # another process's huge operation: which papers left is not told
            self.rank_again()
            return
        gone = set(changes.removed)
        entering: list[str] = []
        if changes.papers and len(changes.papers) <= MAX_PATCH:
            for row in self.lib.rows(sorted(changes.papers)):
                belongs = self.view.matches_row(row)
                shown = self.model.row_of(row["id"]) is not None
                if belongs is False and shown:
                    gone.add(row["id"])
                elif belongs and not shown and row["id"] in self._ranked_at:
                    entering.append(row["id"])
        if not (gone or entering):
            return
        ids = [pid for pid in self.model.ids if pid not in gone]
        for pid in sorted(entering, key=self._ranked_at.__getitem__):
            place = self._ranked_at[pid]
            lo, hi = 0, len(ids)
            while lo < hi:  # the first paper ranked after it
                mid = (lo + hi) // 2
                if self._ranked_at.get(ids[mid], len(self._ranked_at)) > place:
                    hi = mid
                else:
                    lo = mid + 1
            ids.insert(lo, pid)
        self.model.set_ids(ids, self.model.snippets)
        self.reloaded.emit()

    # -- changes ------------------------------------------------------------------------------
    def apply(self, changes: Changes) -> None:
        if not (changes.papers or changes.added or changes.removed or changes.everything):
            return
        self._id_cache.clear()  # other views (Starred, a tag…) may be stale now
        self._sizes.clear()
        self._generation += 1
        if self.by_interest:
            self._apply_in_place(changes)
            return
        if changes.added or changes.removed or changes.sources or self.searching:
            self.model.apply(changes)  # repaint what is shown until the new list arrives
            self.reload()
            return
        # The list shown is the one to patch: not while a newer one is on its way, nor past the
        # head of a list the completer is still reading (the GUI thread never waits for it here).
        shown_ids = self.model.ids
        head = shown_ids.head if isinstance(shown_ids, LazyIds) and not shown_ids.complete else None
        if len(changes.papers) > MAX_PATCH or self.busy:
            self.model.apply(changes)
            self.reload()
            return
        rows = self.lib.rows(sorted(changes.papers))
        leaving: list[str] = []
        entering: list[str] = []
        for row in rows:
            belongs = self.view.matches_row(row)
            if belongs is None or (head is not None and row["id"] not in head):
                self.model.apply(changes)  # a source view cannot tell from a row; or not yet known
                self.reload()
                return
            shown = self.model.row_of(row["id"]) is not None
            if belongs and not shown:
                entering.append(row["id"])
            elif shown and not belongs:
                leaving.append(row["id"])
        if not (leaving or entering):
            self.model.apply(changes)
            return
        if head is not None:
            self.model.apply(changes)
            self.reload()
            return
        self._patch(leaving, entering)
        self.model.apply(changes)

    def _patch(self, leaving: list[str], entering: list[str]) -> None:
        """Remove and insert a few ids in place of a re-query (same result, no 100k-id query); a
        packed list is edited as bytes (no object per id on the GUI thread)."""
        shown = self.model.ids
        places = self._places(shown, entering)
        if isinstance(shown, PackedIds):
            ids: Sequence[str] = shown.edited(leaving, places)
        else:
            edited = list(shown)
            for row, pid in reversed(places):  # (places run in list order)
                edited.insert(row, pid)
            gone = set(leaving)
            ids = [i for i in edited if i not in gone] if gone else edited
        self.reader.supersede("list")
        self.model.set_ids(ids, self.model.snippets)
        self.reloaded.emit()

    def _places(self, ids: Sequence[str], entering: list[str]) -> list[tuple[int, str]]:
        """Where each entering paper goes: (the row of `ids` it goes before, its id), in list
        order, by bisecting with the papers' sort keys (papers leaving meanwhile keep their keys)."""
        keys = self.lib.sort_keys(self.list_order, entering)
        cache: dict[str, tuple] = {}

        def key_at(n: int) -> tuple:
            pid = ids[n]
            if pid not in cache:
                found = self.lib.sort_keys(self.list_order, [pid])
                cache[pid] = found.get(pid) or ((),)
            return cache[pid]

        rev = self.reversed
        places = []
        for pid in sorted(entering, key=lambda p: keys[p], reverse=rev):
            if pid not in keys:
                continue
            lo, hi = 0, len(ids)
            while lo < hi:  # first position whose key sorts after pid's (before it when reversed)
                mid = (lo + hi) // 2
                other = key_at(mid)
                after = (keys[pid] < other) if not rev else (other < keys[pid])
                if after:
                    hi = mid
                else:
                    lo = mid + 1
            places.append((lo, pid))
        return places
