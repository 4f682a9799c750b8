"""Triage decisions (`is:starred`, `is:archived`, `is:inbox`, `is:unstarred`, `is:updated`) in a
search with words: read from SQLite, not from the index.

They change at every keypress of a triage session; kept in the search document, each star or
archive re-indexed the paper. Here the papers having a decision are read from SQLite (partial or
status indexes) as a mask over the index's documents, kept and patched as the library changes
(see Decisions), and the query holds that mask (a Whoosh query, so Whoosh's own matchers can answer it too).
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from paperdesk.core.idlist import ID_SEPARATOR, RowIndex, id_array, id_bytes
from paperdesk.core.view_filter import ViewFilter

# Each decision as the papers SQLite lists, and whether the flag is the complement of that list
# (status is inbox or archived; a paper is starred or not): the short side is read. The columns
# they read are the ones migration 0018's triggers journal: a decision on another column needs
# its own trigger too.
DECISIONS: dict[str, tuple[str, bool]] = {
    "starred": ("starred = 1", False),
    "unstarred": ("starred = 1", True),
    "archived": ("status = 'archived'", False),
    "inbox": ("status = 'archived'", True),
    "updated": ("updated_note IS NOT NULL", False),
}


# A change naming more papers than this (a bulk archive) has the decisions read whole again.
PATCH_AT_MOST = 20_000

# The tags', digests' and categories' papers kept (the latest used), each a flag per paper rowid
# (1 MB at 1M papers) and its documents in the view last searched.
KEPT_VIEWS = 8

# Migration 0019's counters of a view's tag, source and category (NULL: none, or never changed).
_MEMBERSHIP_CHANGES = "SELECT " + ", ".join(
    f"(SELECT changes FROM membership_changes WHERE kind = '{kind}' AND key = ?)"
    for kind in ("tag", "source", "category"))


@dataclass
class _Members:
    """A view's papers as read at `stamp` (its counters): a flag per paper rowid, and the
    documents of the index view `view` they are."""

    stamp: tuple
    flags: np.ndarray | None = None
    view: weakref.ref | None = None
    docs: np.ndarray | None = None


class Decisions:
    """Masks of the papers having each decision, for one library connection.

    Each decision is kept as a flag per paper rowid, read whole once (its papers' rowids: one
    text from SQLite, parsed by numpy) and then patched: the library's `decision_changes` journal
    (migration 0018: triggers, so any connection or process, any write) lists the papers whose
    decision changed since, and only those are read again. A view's mask is one gather of those
    flags through its docnum -> rowid array, made of each segment's (looked up once per process:
    segments never change, and a paper's rowid stays while its row does). At 1M papers, 333k
    archived: the first decision search after a star 430-670 ms when every archived id was looked
    up in per-segment dicts, ~40 ms reading the rowids whole, now a few ms. A paper deleted and
    made again (an import undone, then redone) has a new rowid: until the index takes it in again
    (it is queued) its old document reads the old rowid's decisions, as its text is the old one."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._seen: tuple[int, int] | None = None  # (total_changes, data_version) last caught up at
        self._seq = 0  # the journal's newest row that `_flags` include
        self._flags: dict[str, np.ndarray] = {}  # where -> each rowid's answer
        self._masks: dict[str, np.ndarray] = {}  # where -> the view's documents (of `_masks_key`)
        self._masks_key: tuple | None = None
        self._rowids_of_view: tuple[Any, np.ndarray | None] | None = None  # (view, _doc_rowids)
        self._members: dict[ViewFilter, _Members] = {}  # a tag's, digest's, category's papers

    def mask(self, view: Any, name: str) -> np.ndarray:
        """The live documents of `view` whose paper has decision `name`."""
        where, complement = DECISIONS[name]
        doc_rowids = self._doc_rowids(view)
        changed = self._catch_up(patch=doc_rowids is not None)
        # The view by a weak reference: its id could be a newer one's, and a strong one would keep
        # its caches alive.
        key = (weakref.ref(view), self._seq if doc_rowids is not None else changed)
        if key != self._masks_key:
            self._masks_key, self._masks = key, {}
        found = self._masks.get(where)
        if found is None:
            if doc_rowids is None:  # Whoosh's own matchers (stock.py) or a leaf without ids: by id
                ids = [row[0] for row in self.conn.execute(f"SELECT id FROM papers WHERE {where}")]
                found = view.mask_of(ids)
            else:
                flags = self._flags.get(where)
                if flags is None:
                    flags = self._flags[where] = self._read_whole(where)
                found = _gather(flags, doc_rowids)
            self._masks[where] = found
        return view.live() & (~found if complement else found)

    def _catch_up(self, patch: bool) -> tuple[int, int]:
        """Bring the flags up to the journal's newest row: the papers it lists since are read
        again (too many, or rows pruned past ours: everything is read whole at its next use)."""
        seen = (self.conn.total_changes, self.conn.execute("PRAGMA data_version").fetchone()[0])
        if seen == self._seen:
            return seen
        # `seen` is the state before reading (a change made meanwhile is seen the next time), kept
        # once the flags are caught up (a read that failed, busy or interrupted, is tried again).
        oldest, newest = self.conn.execute("SELECT (SELECT min(seq) FROM decision_changes), "
                                           "(SELECT max(seq) FROM decision_changes)").fetchone()
        newest = newest or 0
        if newest == self._seq:
            self._seen = seen
            return seen
        if (not patch or not self._flags or oldest is None or oldest > self._seq + 1
                or newest - self._seq > PATCH_AT_MOST):
            self._flags = {}
        else:
            text = self.conn.execute("SELECT group_concat(paper) FROM decision_changes "
                                     "WHERE seq > ? AND seq <= ?", (self._seq, newest)).fetchone()[0]
            self._patch(np.unique(_numbers(text)))
        self._seq, self._seen = newest, seen
        return seen

    def _patch(self, rowids: np.ndarray) -> None:
        """Each kept decision's answer for these papers (no such paper: no)."""
        wheres = list(self._flags)
        answers = ", ".join(f"coalesce(({where}), 0)" for where in wheres)
        rows = self.conn.execute(f"SELECT {answers} FROM json_each(?) AS j "
                                 "LEFT JOIN papers p ON p.rowid = j.value ORDER BY j.key",
                                 (id_array(rowids.tolist()),)).fetchall()
        for i, where in enumerate(wheres):
            flags = _covering(self._flags[where], int(rowids.max(initial=0)))
            flags[rowids] = np.array([row[i] for row in rows], dtype=bool)
            self._flags[where] = flags

    def within(self, view: Any, where: ViewFilter) -> np.ndarray:
        """The live documents of `view` whose paper is in the desk view `where`: its decisions'
        masks (`mask`) and its tag's, digest's or category's papers (`members`)."""
        found = view.live()
        members = where.membership()
        if members:
            found = found & self.members(view, members)
        for name in where.decisions():
            found = found & self.mask(view, name)
        return found

    def members(self, view: Any, where: ViewFilter) -> np.ndarray:
        """The documents of `view` whose paper is in the tag, digest and category of `where` (no
        decision): read from SQLite, kept until migration 0019's counters say they changed (a
        star or a note leaves them; a new view gathers them again, as a flag per paper rowid)."""
        if where.status is not None:  # a status that is no decision (the library stores none): no counter
            return self._read_members(view, where, self._doc_rowids(view))
        stamp = self.conn.execute(_MEMBERSHIP_CHANGES,
                                  (where.tag, where.source_id, where.category)).fetchone()
        kept = self._members.pop(where, None)
        if kept is None or kept.stamp != stamp:
            kept = _Members(stamp)
        if kept.view is None or kept.view() is not view:
            doc_rowids = self._doc_rowids(view)
            if doc_rowids is None:
                kept.docs = self._read_members(view, where, None)
            else:
                if kept.flags is None:
                    kept.flags = self._read_whole(*where.sql_for(self.conn))
                kept.docs = _gather(kept.flags, doc_rowids)
            kept.view = weakref.ref(view)
        self._members[where] = kept  # the latest used last
        if len(self._members) > KEPT_VIEWS:
            del self._members[next(iter(self._members))]
        return kept.docs

    def _read_members(self, view: Any, where: ViewFilter, doc_rowids: np.ndarray | None) -> np.ndarray:
        condition, params = where.sql_for(self.conn)
        if doc_rowids is None:  # Whoosh's own matchers (stock.py) or a leaf without ids: by id
            return view.mask_of([row[0] for row in self.conn.execute(
                f"SELECT p.id FROM papers p WHERE {condition}", params)])
        return _gather(self._read_whole(condition, params), doc_rowids)

    def _read_whole(self, where: str, params: Sequence[object] = ()) -> np.ndarray:
        text = self.conn.execute(f"SELECT group_concat(p.rowid) FROM papers p WHERE {where}",
                                 params).fetchone()[0]
        rowids = _numbers(text)
        flags = np.zeros(int(rowids.max(initial=0)) + 1, dtype=bool)
        flags[rowids] = True
        return flags

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
    # Many documents: every paper's id and rowid in one read, and each document's id found among
    # them by `RowIndex` (hashes sorted, binary search, checked against the ids; a dict of them took
    # ~2 s and ~230 MB at 1M papers); a few: each looked up (~2 us each).
    everyone = _rowid_of_each(conn) if sum(map(len, missing.values())) > view.doc_count_all // 4 else None
    for leaf, ids in missing.items():
        found[leaf] = _rowids_of(conn, ids, everyone)
    if missing and len(_SEGMENT_ROWIDS) + len(missing) > _KEPT_SEGMENTS:
        _SEGMENT_ROWIDS.clear()
    _SEGMENT_ROWIDS.update({(database, segments[leaf]): found[leaf] for leaf in missing})
    return found  # type: ignore[return-value]


def _rowid_of_each(conn: sqlite3.Connection) -> tuple[RowIndex, np.ndarray]:
    """Every paper's id (a `RowIndex` of them, in SQLite's order) and its rowid."""
    blob, text = conn.execute(
        f"SELECT CAST(group_concat(id, char({ord(ID_SEPARATOR)})) AS BLOB), group_concat(rowid) "
        "FROM papers").fetchone()
    return RowIndex(id_bytes(blob)), _numbers(text)


def _rowids_of(conn: sqlite3.Connection, paper_ids: np.ndarray,
               everyone: tuple[RowIndex, np.ndarray] | None) -> np.ndarray:
    """Each paper's rowid (-1: no such paper), in their order."""
    if everyone is not None:
        index, rowids = everyone
        at = index.find(paper_ids)
        return np.where(at >= 0, rowids[np.maximum(at, 0)] if len(rowids) else -1, -1)
    text = conn.execute(
        "SELECT group_concat(r) FROM (SELECT coalesce(p.rowid, -1) AS r FROM json_each(?) AS j "
        "LEFT JOIN papers p ON p.id = j.value ORDER BY j.key LIMIT -1)",
        (id_array(pid.decode() for pid in paper_ids.tolist()),)).fetchone()[0]
    found = _numbers(text)
    assert len(found) == len(paper_ids)
    return found


def _covering(flags: np.ndarray, rowid: int) -> np.ndarray:
    """`flags`, longer if needed to hold `rowid` (the rowids after it: no)."""
    if rowid < len(flags):
        return flags
    longer = np.zeros(max(rowid + 1, len(flags) + len(flags) // 8), dtype=bool)
    longer[:len(flags)] = flags
    return longer


def _gather(flags: np.ndarray, doc_rowids: np.ndarray) -> np.ndarray:
    """Each document's paper's flag (NO_PAPER's is no: rowids start at 1)."""
    return _covering(flags, int(doc_rowids.max(initial=0)))[doc_rowids]


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
