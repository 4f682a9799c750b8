"""Triage decisions (`is:starred`, `is:archived`, `is:inbox`, `is:unstarred`, `is:updated`) in a
search with words: read from SQLite, not from the index.

They change at every keypress of a triage session; kept in the search document, each star or
archive re-indexed the paper. Here the papers having a decision are read from SQLite (partial or
status indexes: a few ms) as a mask over the index's documents, cached until the library changes,
and the query holds that mask (a Whoosh query, so Whoosh's own matchers can answer it too).
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from paperdesk.core.idlist import ID_SEPARATOR, id_array, split_ids

# Each decision as the papers SQLite lists, and whether the flag is the complement of that list
# (status is inbox or archived; a paper is starred or not): the short side is read.
DECISIONS: dict[str, tuple[str, bool]] = {
    "starred": ("starred = 1", False),
    "unstarred": ("starred = 1", True),
    "archived": ("status = 'archived'", False),
    "inbox": ("status = 'archived'", True),
    "updated": ("updated_note IS NOT NULL", False),
}


class Decisions:
    """Masks of the papers having each decision, for one library connection; rebuilt when the
    library changed (this connection's changes or another's) or the index view did.

    A rebuild reads the papers' rowids (one text from SQLite, parsed by numpy) and gives each
    document its paper's answer by one gather through the view's docnum -> rowid array, made of
    each segment's (looked up once per segment: segments never change, and a paper's rowid stays
    while its row does). At 1M papers, 333k archived: ~40 ms where looking their ids up in
    per-segment dicts took 0.4-0.7 s. A paper deleted and made again (an import undone, then
    redone) has a new rowid: until the index takes it in again (it is queued) its old document
    reads the old rowid's decisions, as its text is the old one too."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._key: tuple | None = None  # (view, the library's state) the masks are of
        self._masks: dict[str, np.ndarray] = {}
        self._rowids_of_view: tuple[Any, np.ndarray | None] | None = None  # (view, _doc_rowids)

    def mask(self, view: Any, name: str) -> np.ndarray:
        """The live documents of `view` whose paper has decision `name`."""
        where, complement = DECISIONS[name]
        # The view by a weak reference: its id could be a newer one's, and a strong one would keep
        # its caches alive.
        key = (weakref.ref(view), self.conn.total_changes,
               self.conn.execute("PRAGMA data_version").fetchone()[0])
        if key != self._key:
            self._key, self._masks = key, {}
        found = self._masks.get(where)
        if found is None:
            found = self._masks[where] = self._papers_where(view, where)
        return view.live() & (~found if complement else found)

    def _papers_where(self, view: Any, where: str) -> np.ndarray:
        doc_rowids = self._doc_rowids(view)
        if doc_rowids is None:  # Whoosh's own matchers (stock.py) or a leaf without ids: by paper id
            return view.mask_of([row[0] for row in self.conn.execute(f"SELECT id FROM papers WHERE {where}")])
        text = self.conn.execute(f"SELECT group_concat(rowid) FROM papers WHERE {where}").fetchone()[0]
        rowids = _numbers(text)
        has = np.zeros(max(int(doc_rowids.max(initial=0)), int(rowids.max(initial=0))) + 1, dtype=bool)
        has[rowids] = True
        has[NO_PAPER] = False
        return has[doc_rowids]

    def _doc_rowids(self, view: Any) -> np.ndarray | None:
        """Each document's paper rowid (NO_PAPER: none), by docnum; None where it cannot be made."""
        if self._rowids_of_view is not None and self._rowids_of_view[0]() is view:
            return self._rowids_of_view[1]
        leaves = segment_rowids(self.conn, view)
        made = None
        if leaves is not None:
            made = np.concatenate(leaves) if leaves else np.zeros(0, dtype=np.int64)
            made[made < 0] = NO_PAPER
        self._rowids_of_view = (weakref.ref(view), made)
        return made

    def query(self, view: Any) -> Callable[[str], Any]:
        """The compiler's `decided`: a flag's name -> a query matching the mask."""
        return lambda name: decided_query(name, self.mask(view, name), view.leaves)


# Each segment's documents' rowids (-1: no such paper), by (database file, segment id): segments
# never change, so every connection of the process shares them.
_SEGMENT_ROWIDS: dict[tuple[str, str], np.ndarray] = {}
_KEPT_SEGMENTS = 64
NO_PAPER = 0  # SQLite gives no row rowid 0 (they start at 1)


def segment_rowids(conn: sqlite3.Connection, view: Any) -> list[np.ndarray] | None:
    """Each leaf's documents' paper rowids in docnum order (None: a leaf that is no segment or
    has no id column, or Whoosh's own matchers: stock.py)."""
    segments = view.segment_ids() if hasattr(view, "segment_ids") else [None]
    if None in segments:
        return None
    database = conn.execute("PRAGMA database_list").fetchone()[2]
    found = [_SEGMENT_ROWIDS.get((database, segid)) for segid in segments]
    missing = {leaf: view.leaf_paper_ids(leaf) for leaf, known in enumerate(found) if known is None}
    if any(ids is None for ids in missing.values()):
        return None
    # Many documents: every paper's id and rowid in one read (1M papers ~0.5 s) beats looking
    # each up (~2 us each: 2.2 s for a 500k segment).
    everyone = _rowid_of_each(conn) if sum(map(len, missing.values())) > view.doc_count_all // 4 else None
    for leaf, ids in missing.items():
        found[leaf] = _rowids_of(conn, ids, everyone)
    if len(_SEGMENT_ROWIDS) + len(missing) > _KEPT_SEGMENTS:
        _SEGMENT_ROWIDS.clear()
    _SEGMENT_ROWIDS.update({(database, segments[leaf]): found[leaf] for leaf in missing})
    return found  # type: ignore[return-value]


def _rowid_of_each(conn: sqlite3.Connection) -> dict[str, int]:
    blob, text = conn.execute(f"SELECT CAST(group_concat(id, char({ord(ID_SEPARATOR)})) AS BLOB), "
                              "group_concat(rowid) FROM papers").fetchone()
    return dict(zip(split_ids(blob), _numbers(text).tolist(), strict=True))


def _rowids_of(conn: sqlite3.Connection, paper_ids: list[str], everyone: dict[str, int] | None) -> np.ndarray:
    """Each paper's rowid (-1: no such paper), in their order."""
    if everyone is not None:
        get = everyone.get
        return np.fromiter((get(pid, -1) for pid in paper_ids), dtype=np.int64, count=len(paper_ids))
    text = conn.execute(
        "SELECT group_concat(r) FROM (SELECT coalesce(p.rowid, -1) AS r FROM json_each(?) AS j "
        "LEFT JOIN papers p ON p.id = j.value ORDER BY j.key LIMIT -1)", (id_array(paper_ids),)).fetchone()[0]
    found = _numbers(text)
    assert len(found) == len(paper_ids)
    return found


def _numbers(text: str | None) -> np.ndarray:
    """The integers of a group_concat's text."""
    return np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, dtype=np.int64)


def decided_query(name: str, mask: np.ndarray, leaves: list[tuple[Any, int]]) -> Any:
    return _query_class()(name, mask, leaves)


@lru_cache(maxsize=1)
def _query_class() -> type:
    from whoosh import matching, query

    class Decided(query.Query):
        """The documents of a mask over the index (global docnums), scored 1.0 as a keyword is.
        Its matcher answers for the whole index or for one of its leaves (`leaves` as
        `IndexView.leaves`: a leaf reader and its offset), as Whoosh asks."""

        def __init__(self, name: str, mask: np.ndarray, leaves: list[tuple[Any, int]]):
            self.name, self.mask, self.boost = name, mask, 1.0
            self._leaves = {id(reader): (offset, reader.doc_count_all()) for reader, offset in leaves}

        def __eq__(self, other: object) -> bool:
            return type(other) is type(self) and other.name == self.name and other.mask is self.mask  # type: ignore[attr-defined]

        def __hash__(self) -> int:
            return hash(("is", self.name))

        def __repr__(self) -> str:
            return f"Decided({self.name!r})"

        def __unicode__(self) -> str:
            return f"is:{self.name}"

        __str__ = __unicode__

        def is_leaf(self) -> bool:
            return True

        def estimate_size(self, ixreader: Any) -> int:
            return int(np.count_nonzero(self.mask))

        def matcher(self, searcher: Any, context: Any = None) -> Any:
            offset, size = self._leaves.get(id(searcher.reader()), (0, len(self.mask)))
            docnums = np.flatnonzero(self.mask[offset:offset + size]).tolist()
            return matching.ListMatcher(docnums, all_weights=1.0) if docnums else matching.NullMatcher()

    return Decided


def is_decided(query: Any) -> bool:
    return type(query) is _query_class()
