"""`lib.search`: the library's one door to search (queries, more like this, saved searches) and
to its derived Whoosh index (update, check, rebuild, what waits in the queue).

Whoosh is imported only when the index is first used: a library that never searches never loads
it (the index module, the engine and the ranker are imported inside the methods that need them).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from paperdesk.core.changes import Changes
from paperdesk.core.library import Library, LibraryError
from paperdesk.core.search.fields import INDEX_DIRNAME
from paperdesk.core.timeutil import now_iso

if TYPE_CHECKING:
    from paperdesk.core.search.index import SearchIndex
    from paperdesk.core.search.results import SearchHit, SearchResult
    from paperdesk.core.view_filter import ViewFilter

Progress = Callable[[int, int, str], None]  # (done, total, what)

# A closing Library indexes the queue only if it holds at most this many papers: a short command
# (star, tag) indexes what it changed, and leaves a big queue an import left (10k queued papers
# made `star` take 7 s; even 200 of them cost it ~2 s) to the indexer, `index update` or the next
# search, without loading Whoosh at all.
CLOSE_DRAIN_LIMIT = 200

log = logging.getLogger(__name__)


class Search:
    """A library's search: `lib.search.run(query)`, `similar`, `saved`/`save`/`remove_saved`, and
    its index: `update` (index what changes queued), `check`, `rebuild`, `queued`, `current`."""

    def __init__(self, lib: Library):
        self.lib = lib
        self._index: SearchIndex | None = None
        self.backlog = 0  # papers left queued for the index at close (the CLI says so)

    # -- searching ----------------------------------------------------------------------------
    def run(self, query: str, limit: int | None = 200, *, typing: bool = True,
            today: dt.date | None = None, drain: bool = True, tag: str | None = None,
            within: ViewFilter | None = None) -> SearchResult:
        """Papers matching `query` (see querylang); never raises on bad queries. `typing=True`
        reads the last word as unfinished (search as you type). `drain=False` searches what is
        indexed (the desk's reader: indexing is the writer's job). `tag`: sort:interest ranks by
        that tag's model (papers like my #T ones) instead of the interest model. `within`: only the
        papers of that desk view (its best `limit`, its count)."""
        from paperdesk.core.search.engine import run_search
        from paperdesk.core.timeutil import today as today_fn

        if drain:
            self._update_before_reading()

        def rank(ids: list[str], keep: int | None) -> tuple[list[str], list[float], str]:
            """sort:interest: the engine lists every match, the library's ranker orders them."""
            ranked = self.lib.ranker.rank(ids, tag, limit=keep)
            scores = [round(score, 4) if score > -1e30 else 0.0 for score in ranked.scores]
            return ranked.ids, scores, ranked.message

        return run_search(self.index, self.lib.conn, query or "", limit=limit,
                          today=today or today_fn(), typing=typing, rank=rank, within=within)

    def similar(self, paper_id: str, limit: int = 10) -> list[tuple[SearchHit, list[str]]]:
        """The papers most like this one (title and abstract), with the words they share."""
        from paperdesk.core.search.engine import similar

        self._update_before_reading()
        try:
            return similar(self.index, self.lib.conn, paper_id, limit)
        except LookupError:
            raise LibraryError(f"no paper with id {paper_id}") from None

    def by_title(self, text: str, limit: int) -> list[str]:
        """Papers whose title contains `text`, newest first: what the desk shows before the index
        exists (no Whoosh)."""
        pattern = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return [r[0] for r in self.lib.conn.execute(
            "SELECT id FROM papers WHERE title LIKE ? ESCAPE '\\' ORDER BY published DESC LIMIT ?",
            (pattern, limit))]

    # -- saved searches (undoable, like every user change) --------------------------------------
    def saved(self) -> list[tuple[str, str]]:
        """(name, query) of every saved search, by name."""
        return self.lib.conn.execute("SELECT name, query FROM saved_searches ORDER BY name").fetchall()

    def save(self, name: str, query: str) -> Changes:
        """Save `query` under `name` (replacing one of that name); no change if it was saved so."""
        name, query = _clean_name(name), (query or "").strip()
        if not name:
            raise LibraryError("a saved search needs a name")
        if not query:
            raise LibraryError("a saved search needs a query")
        conn = self.lib.conn
        with self.lib.operation("saved_search", f"Save search {name}") as rec:
            row = conn.execute("SELECT query FROM saved_searches WHERE name = ?", (name,)).fetchone()
            if row is None or row[0] != query:
                rec.touch("saved_searches", [name])
                conn.execute(
                    "INSERT INTO saved_searches (name, query, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET query = excluded.query", (name, query, now_iso()))
                rec.changed(Changes(saved_searches=True))
        return rec.changes

    def remove_saved(self, name: str) -> Changes:
        name = _clean_name(name)
        conn = self.lib.conn
        with self.lib.operation("saved_search", f"Remove saved search {name}") as rec:
            if conn.execute("SELECT 1 FROM saved_searches WHERE name = ?", (name,)).fetchone() is None:
                raise LibraryError(f"no saved search named {name!r}")
            rec.touch("saved_searches", [name])
            conn.execute("DELETE FROM saved_searches WHERE name = ?", (name,))
            rec.changed(Changes(saved_searches=True))
        return rec.changes

    # -- the index ----------------------------------------------------------------------------
    @property
    def index(self) -> SearchIndex:
        """The search index (opened, and rebuilt if missing or damaged, on first use)."""
        if self._index is None:
            from paperdesk.core.search.index import SearchIndex

            self._index = SearchIndex(self.lib.folder, self.lib.conn)
        return self._index

    def exists(self) -> bool:
        """Whether an index is on disk (of any version; never opens it)."""
        from paperdesk.core.search.index import SearchIndex

        return SearchIndex.exists(self.lib.folder)

    def current(self) -> bool:
        """Whether an index of this version, written the way this process writes, is on disk:
        opening it rebuilds nothing unless it is damaged (the desk's reader searches only then)."""
        from paperdesk.core.search.index import SearchIndex

        return SearchIndex.current(self.lib.folder)

    def warm(self) -> None:
        """Open a current index for searching now (Whoosh, numpy and the per-document arrays: a
        few hundred ms at 100k papers) rather than at the first query, and the Inbox's mask (the
        desk searches within its view: at 1M papers the first mask maps every document to its
        paper, ~1 s)."""
        if self.current():
            from paperdesk.core.view_filter import ViewFilter

            view = self.index.view()
            view.warm()
            self.index.within(view, ViewFilter(status="inbox"))

    def queued(self) -> bool:
        """Whether papers wait for the index (changed since it last took them in)."""
        return self.lib.conn.execute("SELECT 1 FROM index_queue LIMIT 1").fetchone() is not None

    def update(self, progress: Progress | None = None, limit: int | None = None) -> int:
        """Index the papers queued by changes (the `limit` oldest if given, e.g. a slice between
        the desk's jobs); builds the index if there is none. Returns how many were indexed."""
        return self.index.drain(progress, limit=limit)

    def check(self, *, repair: bool = True, progress: Progress | None = None) -> dict:
        """Compare index and library (missing, stale, orphan documents); `repair` re-indexes them."""
        return self.index.check(repair=repair, progress=progress)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Build the index from scratch; returns the number of papers indexed (IndexBusy if another
        process is writing it)."""
        return self.index.rebuild(progress)

    def messages(self) -> list[str]:
        """What the index has to tell the user since last asked (why it was rebuilt, ...); never
        opens it."""
        return self._index.take_messages() if self._index is not None else []

    # -- what the library calls -----------------------------------------------------------------
    def after_write(self) -> None:
        """Index what an import queued, if an index exists and this library indexes at all. The
        import is committed whatever happens here: a failure (a full disk) is a warning, and the
        queue stays for the next update."""
        try:
            self._update_if_built()
        except (OSError, sqlite3.Error) as exc:
            self._failed(exc)

    def close(self) -> None:
        """At the library's close: index a short queue (a big one is left to the indexer and
        counted in `backlog`), then close the index."""
        try:
            if not self.lib.defer_indexing and self._built():
                queued = self.lib.conn.execute("SELECT count(*) FROM (SELECT 1 FROM index_queue LIMIT ?)",
                                               (CLOSE_DRAIN_LIMIT + 1,)).fetchone()[0]
                if queued <= CLOSE_DRAIN_LIMIT:
                    self._update_if_built()
                else:
                    self.backlog = self.lib.conn.execute("SELECT count(*) FROM index_queue").fetchone()[0]
        except Exception as exc:  # the queue stays; the next update takes it
            from paperdesk.core.failures import kind

            if kind(exc) is None:
                log.warning("search index not updated at close: %s", exc)
            else:
                self._failed(exc, quiet_if_read_only=True)
        index, self._index = self._index, None
        if index is not None:
            index.close()

    def _built(self) -> bool:
        return self._index is not None or (self.lib.folder / INDEX_DIRNAME).is_dir()

    def _update_if_built(self) -> None:
        """Cheap when the queue is empty; never creates an index that nobody has asked for."""
        if self.lib.defer_indexing or not self.queued():
            return
        if self._built():
            self.update()

    def _update_before_reading(self) -> None:
        """Index the queue before a search; on a read-only or full disk, search what is indexed."""
        try:
            self.update()
        except (OSError, sqlite3.Error) as exc:
            self._failed(exc)
            if not self.exists():
                raise

    def _failed(self, exc: Exception, *, quiet_if_read_only: bool = False) -> None:
        """Indexing failed for a reason of the machine: a warning (re-raised if it is a bug)."""
        from paperdesk.core.failures import READ_ONLY, kind, summary

        found = kind(exc)
        if found is None:
            raise exc
        if quiet_if_read_only and found == READ_ONLY:  # reading a read-only library is fine
            return
        self.lib.warnings.append(f"the search index was not updated: {summary(exc)}; it catches up "
                                 "at the next search or `paperdesk index update`")


def _clean_name(name: str) -> str:
    return " ".join((name or "").split())
