"""Triage decisions (`is:starred`, `is:archived`, `is:inbox`, `is:unstarred`, `is:updated`) in a
search with words: read from SQLite, not from the index.

They change at every keypress of a triage session; kept in the search document, each star or
archive re-indexed the paper. Here the papers having a decision are read from SQLite (partial or
status indexes: a few ms) as a mask over the index's documents, cached until the library changes,
and the query holds that mask (a Whoosh query, so Whoosh's own matchers can answer it too).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

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
    library changed (this connection's changes or another's) or the index view did."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._key: tuple | None = None
        self._masks: dict[str, np.ndarray] = {}

    def mask(self, view: Any, name: str) -> np.ndarray:
        """The live documents of `view` whose paper has decision `name`."""
        where, complement = DECISIONS[name]
        key = (id(view), self.conn.total_changes,
               self.conn.execute("PRAGMA data_version").fetchone()[0])
        if key != self._key:
            self._key, self._masks = key, {}
        found = self._masks.get(where)
        if found is None:
            ids = [row[0] for row in self.conn.execute(f"SELECT id FROM papers WHERE {where}")]
            found = self._masks[where] = view.mask_of(ids)
        return view.live() & (~found if complement else found)

    def query(self, view: Any) -> Callable[[str], Any]:
        """The compiler's `decided`: a flag's name -> a query matching the mask."""
        return lambda name: decided_query(name, self.mask(view, name), view.leaves)


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
