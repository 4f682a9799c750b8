"""Evaluate a compiled Whoosh query with numpy arrays, one slot per document of the index.

Whoosh's matcher trees walk postings one at a time through layers of Python method calls (an
Or over six fields of a common word costs 100s of ms at 100k papers). Here each term's postings
are sliced from the arrays our writer keeps beside each segment (sidecar.py), scored once with
Whoosh's own BM25F formula as one array operation and kept in a small per-searcher cache; phrases
are found in the word order files (word_order.py). A query's result is a
`Matches`: a mask of the matching documents and their scores, dense over the index (100k
documents are 0.9 MB), so Or, And and AndNot are whole-array operations. Query kinds without a
rule here (anything unusual) are still matched by Whoosh itself, so results never depend on
which path answered.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from paperdesk.core.search import whoosh_internals as internals
from paperdesk.core.search.decisions import is_decided
from paperdesk.core.search.sidecar import sidecar_for
from paperdesk.core.search.word_order import word_order_for

K1, B = 1.2, 0.75           # whoosh.scoring.BM25F defaults (the searcher's weighting)
WARM_ARRAYS = 3  # whole-index arrays of scores (and masks) a search holds at once, touched at warm
SCORE_TABLE_FROM = 1 << 16  # postings from which a list is scored from a table (as long as it)
POSTING_BUDGET = 3_000_000  # decoded postings kept per searcher (~36 MB at 12 bytes each)


NARROW_SHARE = 0.25  # an And whose first part matches at most this share of the index looks
# its other parts up at those documents only (a common word's long list is then scored only there)


Column = tuple[np.ndarray, np.ndarray]  # (has a value, the value) per docnum
Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (docnums, weights) -> scores


def _ones(ids: np.ndarray, _weights: np.ndarray) -> np.ndarray:
    return np.ones(len(ids))


class Narrowed(NamedTuple):
    """The documents an And looks its later parts up at: ascending, as a mask, and each one's
    place in `docs` (by docnum; other entries are never read)."""

    docs: np.ndarray
    mask: np.ndarray
    places: np.ndarray


class Matches(Mapping[int, float]):
    """The documents a query matches (`mask`) and their scores (0 elsewhere), by global docnum.

    A read-only mapping docnum -> score, so callers can count, test and look up as with a dict.
    Made whole (a mask and scores over every document) or from its documents (`of_documents`:
    docnums ascending and their scores; the whole-index arrays are made only if read, so a single
    term or an And narrowed to few documents is counted and ranked without them)."""

    __slots__ = ("_count", "_doc_scores", "_docs", "_mask", "_scores", "_size")

    def __init__(self, mask: np.ndarray, scores: np.ndarray | None):
        """`scores` None: every document of `mask` scores 1.0 (a range, a triage decision, Every),
        made into a whole-index array only if read."""
        self._mask: np.ndarray | None = mask
        self._scores: np.ndarray | None = scores
        self._docs: np.ndarray | None = None
        self._doc_scores: np.ndarray | None = None
        self._size = len(mask)
        self._count: int | None = None

    @classmethod
    def of_documents(cls, docs: np.ndarray, scores: np.ndarray, size: int) -> Matches:
        """The documents `docs` (ascending, read-only: they may be a cached posting list) with
        `scores`, in an index of `size` documents."""
        found = cls.__new__(cls)
        found._mask = found._scores = None
        found._docs, found._doc_scores, found._size = docs, scores, size
        found._count = len(docs)
        return found

    @property
    def mask(self) -> np.ndarray:
        if self._mask is None:
            self._mask = np.zeros(self._size, dtype=bool)
            self._mask[self._docs] = True
        return self._mask

    @property
    def scores(self) -> np.ndarray:
        if self._scores is None:
            if self._docs is None:
                self._scores = self.mask.astype(np.float64)
            else:
                self._scores = np.zeros(self._size)
                self._scores[self._docs] = self._doc_scores
        return self._scores

    def _ones(self) -> bool:
        """Whether every match scores 1.0 and no whole-index scores were made."""
        return self._scores is None and self._docs is None

    def add_scores_to(self, scores: np.ndarray) -> None:
        """`scores += self.scores` (a mask of 1.0 scores added as it is: the same sums)."""
        scores += self.mask if self._ones() else self.scores

    def __len__(self) -> int:
        if self._count is None:
            self._count = int(np.count_nonzero(self.mask))
        return self._count

    def __iter__(self) -> Iterator[int]:
        return iter(self.docnums().tolist())

    def __contains__(self, docnum: object) -> bool:
        return isinstance(docnum, int | np.integer) and 0 <= docnum < self._size and \
            bool(self.mask[docnum])

    def __getitem__(self, docnum: int) -> float:
        if docnum not in self:
            raise KeyError(docnum)
        return float(self.scores[docnum])

    def docnums(self) -> np.ndarray:
        return self._docs if self._docs is not None else np.flatnonzero(self.mask)

    def documents(self) -> tuple[np.ndarray, np.ndarray]:
        """(docnums ascending, their scores); read-only."""
        if self._docs is not None and self._doc_scores is not None:
            return self._docs, self._doc_scores
        docs = np.flatnonzero(self.mask)
        return docs, (np.ones(len(docs)) if self._ones() else self.scores[docs])

    def add_to(self, mask: np.ndarray, scores: np.ndarray) -> None:
        """Or this into whole-index arrays, in place: `mask |= mine`, `scores += mine`."""
        if self._docs is not None and self._doc_scores is not None:
            mask[self._docs] = True
            scores[self._docs] += self._doc_scores
        else:
            mask |= self.mask
            self.add_scores_to(scores)

    def scores_of(self, docnums: list[int] | np.ndarray) -> np.ndarray:
        """The scores of these matching documents."""
        if self._docs is not None and self._doc_scores is not None:
            return self._doc_scores[np.searchsorted(self._docs, docnums)]
        return self.scores[docnums]

    def scaled(self, boost: float) -> Matches:
        if boost == 1:
            return self
        if self._docs is not None and self._doc_scores is not None:
            return Matches.of_documents(self._docs, self._doc_scores * boost, self._size)
        return Matches(self.mask, self.scores * boost)

    def restricted(self, keep: np.ndarray) -> Matches:
        """Only the documents also in the mask `keep`."""
        if self._docs is not None and self._doc_scores is not None:
            hit = keep[self._docs]
            return Matches.of_documents(self._docs[hit], self._doc_scores[hit], self._size)
        mask = self.mask & keep
        return Matches(mask, None if self._ones() else np.where(mask, self.scores, 0.0))


def _common(a: np.ndarray, b: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the values two ascending arrays of docnums below `size` share are in each: the
    shorter looked up in the longer by binary search, or, when it is long (a binary search per
    value touches ~20 scattered places), each of the longer's positions written at its docnum
    in one array over every document and read back at the shorter's values."""
    if len(a) > len(b):
        mine, theirs = _common(b, a, size)
        return theirs, mine
    if not len(a) or not len(b):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if len(a) * 16 > size:
        where = np.full(size, -1, dtype=np.int64)
        where[b] = np.arange(len(b))
        found = where[a]
        shared = found >= 0
        return np.flatnonzero(shared), found[shared]
    found = np.minimum(np.searchsorted(b, a), len(b) - 1)
    shared = b[found] == a
    return np.flatnonzero(shared), found[shared]


def gather_column(field: Any, fieldname: str, leaves: list[tuple[Any, int]], doc_count_all: int,
                  stored: Callable[[Any], np.ndarray]) -> Column:
    """A sortable numeric field per global docnum, (has a value, the value or 0), from each leaf's
    raw stored values (`stored(reader)`: unsigned; signed numbers are stored shifted)."""
    missing = (1 << (8 * np.dtype(field.sortable_typecode).itemsize)) - 1  # Whoosh's "no value"
    shift = 1 << (field.bits - 1) if field.signed else 0
    has = np.zeros(doc_count_all, dtype=bool)
    values = np.zeros(doc_count_all, dtype=np.int64)
    for reader, offset in leaves:
        if not reader.has_column(fieldname):
            continue
        raw = stored(reader)
        present = raw != missing
        has[offset:offset + len(raw)] = present
        values[offset:offset + len(raw)] = np.where(present, raw - shift, 0)
    return has, values


class IndexView:
    """One searcher's documents as arrays, built lazily and cached until it closes. `folder`
    holds the files our writer writes beside each segment (sidecar.py, word_order.py)."""

    def __init__(self, searcher: Any, folder: Path | None = None):
        self.searcher = searcher
        self.schema = searcher.schema
        self.leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.doc_count_all = searcher.doc_count_all()
        self._postings: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cached = 0
        self._lengths: dict[str, np.ndarray] = {}
        self._columns: dict[str, Column] = {}
        self._live = np.ones(self.doc_count_all, dtype=bool)
        for reader, offset in self.leaves:
            if reader.has_deletions():
                self._live[[d + offset for d in reader.deleted_docs_set]] = False
        self._id_columns: list[Callable[[int], str] | None] | None = None
        self._id_arrays: dict[int, np.ndarray | None] = {}  # by leaf: each document's paper id
        self._offsets = [offset for _, offset in self.leaves]
        # The posting lists of each leaf as arrays (sidecar.py; the index checks they are there).
        self._sidecars = self._beside_segments(folder, sidecar_for)
        self._folder = folder
        self._orders: list[Any] | None = None  # read at the first phrase (see _word_orders)

    @property
    def _word_orders(self) -> list[Any]:
        """The order of each leaf's title and abstract words, when its segment has it
        (word_order.py): opened at the first phrase (a map of each file and its header, a few ms;
        words and prefixes never need them)."""
        if self._orders is None:
            self._orders = self._beside_segments(self._folder, word_order_for)
        return self._orders

    def _beside_segments(self, folder: Path | None, open_for: Callable[[Path, str], Any]) -> list[Any]:
        """Per leaf, the file `open_for` reads beside its segment, or None."""
        segments = [internals.segment_id(r) for r, _ in self.leaves]
        return [open_for(folder, segid) if folder and segid else None for segid in segments]

    def _empty(self) -> Matches:
        return Matches(np.zeros(self.doc_count_all, dtype=bool), np.zeros(self.doc_count_all))

    def _constant(self, mask: np.ndarray) -> Matches:
        """Every document of `mask`, scored 1.0 (as Whoosh scores Every and ranges)."""
        return Matches(mask, None)

    # -- postings -------------------------------------------------------------------------------
    def postings(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(docnums ascending, BM25F scores) of a term, deleted documents left out."""
        key = (fieldname, text)
        found = self._postings.get(key)
        if found is not None:
            self._postings.move_to_end(key)
            return found
        found = self._decode(fieldname, text)
        self._postings[key] = found
        self._cached += len(found[0])
        while self._cached > POSTING_BUDGET and len(self._postings) > 1:
            _, (ids, _) = self._postings.popitem(last=False)
            self._cached -= len(ids)
        return found

    def _decode(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        lists, score = self._read(fieldname, text)
        if not lists:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids = lists[0][0] if len(lists) == 1 else np.concatenate([i for i, _ in lists])
        weights = lists[0][1] if len(lists) == 1 else np.concatenate([w for _, w in lists])
        live = self._live[ids]
        if not live.all():
            ids, weights = ids[live], weights[live]
        return ids, score(ids, weights)

    def _read(self, fieldname: str, text: str,
              keep: np.ndarray | None = None) -> tuple[list[tuple[np.ndarray, np.ndarray]], Scorer]:
        """A term's (docnums ascending, weights) in each leaf that has it, deleted documents
        included (only those set in the mask `keep` when given), and what scores any of them
        (elementwise, so scoring a part gives the same scores as the whole: an And scores only
        the documents its other parts left)."""
        from whoosh.util.numeric import byte_to_length

        if fieldname not in self.schema:
            return [], _ones
        field = self.schema[fieldname]
        tbytes = field.to_bytes(text) if not isinstance(text, bytes) else text
        lists: list[tuple[np.ndarray, np.ndarray]] = []
        frequency = 0  # the whole list's length, kept or not
        for (reader, offset), sidecar in zip(self.leaves, self._sidecars, strict=True):
            mine = None if keep is None else keep[offset:offset + reader.doc_count_all()]
            if sidecar is not None and sidecar.covers(fieldname):
                if mine is None:
                    found = sidecar.postings(fieldname, tbytes)
                    frequency += 0 if found is None else len(found[0])
                elif (kept := sidecar.postings_in(fieldname, tbytes, mine)) is not None:
                    found = kept[:2]
                    frequency += kept[2]
                else:
                    found = None
            else:  # a field no query reads by term, or a segment without its file
                found = _matched(reader, fieldname, tbytes)
                if found is not None:
                    frequency += len(found[0])
                    if mine is not None:
                        hit = mine[found[0]]
                        found = found[0][hit], found[1][hit]
            if found is not None and len(found[0]):
                ids, weights = found
                if offset:
                    ids += offset  # in place: both readers return new arrays
                lists.append((ids, weights))
        if not lists or not field.scorable:
            return lists, _ones
        # Whoosh's BM25F with its global statistics
        if fieldname in internals.SIDECAR_ONLY and None not in self._sidecars:
            # Not in a lean segment's term dictionary: counted in the postings files (which
            # keep deleted documents too, as Whoosh's frequencies count them).
            idf = math.log(self.searcher.doc_count_all() / (frequency + 1)) + 1
        else:
            idf = self.searcher.idf(fieldname, text)
        coef = idf * (K1 + 1)
        avgfl = self.searcher.avg_field_length(fieldname) or 1
        norms = np.array([K1 * ((1 - B) + B * byte_to_length(b) / avgfl) for b in range(256)])
        lengths = self._field_lengths(fieldname)
        table: list[np.ndarray] = []  # made for the term's first long list of one-byte counts

        def score(ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
            if weights.dtype == np.uint8 and len(ids) >= SCORE_TABLE_FROM:
                # The score of every (count, length code) pair, worked out once by the formula
                # below on the same numbers (so the same bits): then one look-up a posting.
                if not table:
                    counts = np.arange(256, dtype=np.float64)[:, None]
                    table.append(((counts * coef) / (norms[None, :] + counts)).ravel())
                at = weights.astype(np.uint16) << 8
                at |= lengths[ids]
                return table[0][at]
            # coef * w / (w + norm), with two temporaries instead of four
            weights = weights.astype(np.float64, copy=False)
            below = norms[lengths[ids]]
            below += weights
            scores = weights * coef
            scores /= below
            return scores

        return lists, score

    def warm(self) -> None:
        """Read now what the first word search reads: the ranked fields' lengths and each leaf's
        paper ids (at 1M papers ~15 ms of CPU that the first keystroke paid)."""
        for fieldname in ("title", "title_ng", "abstract"):
            if fieldname in self.schema and self.schema[fieldname].scorable:
                self._field_lengths(fieldname)
        if self.doc_count_all:
            self.paper_id(0)
        # And this thread's allocator: the first searches' whole-index arrays (`Matches`, Or
        # accumulators) each touched fresh pages (~1,800 page faults an array at 1M papers, ~30 ms
        # on a shared VM); memory touched and freed here is what they reuse.
        scratch = [np.ones(self.doc_count_all) for _ in range(WARM_ARRAYS)]
        scratch += [np.ones(self.doc_count_all, dtype=bool) for _ in range(WARM_ARRAYS)]
        del scratch

    def _field_lengths(self, fieldname: str) -> np.ndarray:
        """Each document's field length as Whoosh's one-byte code, by global docnum."""
        found = self._lengths.get(fieldname)
        if found is None:
            found = np.zeros(self.doc_count_all, dtype=np.uint8)
            for reader, offset in self.leaves:
                n = reader.doc_count_all()
                codes = np.frombuffer(internals.length_bytes(reader, fieldname)[:n], dtype=np.uint8)
                found[offset:offset + len(codes)] = codes
            self._lengths[fieldname] = found
        return found

    # -- columns and documents ------------------------------------------------------------------
    def column(self, fieldname: str) -> Column:
        """A sortable numeric field, per global docnum: (has a value, the value or 0)."""
        found = self._columns.get(fieldname)
        if found is None:
            field = self.schema[fieldname]
            dtype = np.dtype(field.sortable_typecode).newbyteorder(">")  # stored big-endian

            def stored(reader: Any) -> np.ndarray:
                raw = internals.column_bytes(reader, fieldname)
                return np.frombuffer(raw, dtype=dtype)[:reader.doc_count_all()].astype(np.int64)

            found = self._columns[fieldname] = gather_column(field, fieldname, self.leaves,
                                                             self.doc_count_all, stored)
        return found

    def value(self, fieldname: str, docnum: int) -> int | None:
        has, values = self.column(fieldname)
        return int(values[docnum]) if has[docnum] else None

    def live(self) -> np.ndarray:
        """Every document that is not deleted, as a mask."""
        return self._live

    def paper_id(self, docnum: int) -> str:
        """A document's paper id, read from its leaf's id column each time (a slice and a
        decode: a cache of them only grew over a long session)."""
        leaf = bisect_right(self._offsets, docnum) - 1
        column = self._id_column(leaf)
        if column is not None:
            return column(docnum - self._offsets[leaf])
        return self.searcher.stored_fields(docnum)["id"]  # an index written before `id` had a column

    def _id_column(self, leaf: int) -> Callable[[int], str] | None:
        if self._id_columns is None:
            self._id_columns = [internals.id_column(r) for r, _ in self.leaves]
        return self._id_columns[leaf]

    def segment_ids(self) -> list[str | None]:
        """Each leaf's segment (None: a leaf that is not one)."""
        return [internals.segment_id(reader) for reader, _ in self.leaves]

    def leaf_paper_ids(self, leaf: int) -> np.ndarray | None:
        """The paper id of each document of a leaf, deleted ones too, in docnum order, as one
        fixed-width bytes array (None: the leaf has no id column of that layout)."""
        # ~12 MB at 1M papers, where dicts of them held ~150 MB. Only the leaf asked for: after an
        # import a new view's decisions want the new segment's ids alone (the big segments' rowids
        # are known), and reading every leaf's cost that search ~50 ms at 1M papers.
        if leaf not in self._id_arrays:
            self._id_arrays[leaf] = internals.id_array(self.leaves[leaf][0])
        return self._id_arrays[leaf]

    def mask_of(self, paper_ids: list[str]) -> np.ndarray:
        """The documents of these papers, as a mask (a paper re-indexed is also in a deleted
        document: `live()` leaves that out)."""
        mask = np.zeros(self.doc_count_all, dtype=bool)
        wanted = np.array([pid.encode() for pid in paper_ids], dtype=bytes)
        if not len(wanted):
            return mask
        for leaf, (reader, offset) in enumerate(self.leaves):
            ids = self.leaf_paper_ids(leaf)
            if ids is not None:
                mask[offset:offset + len(ids)] = np.isin(ids, wanted)
                continue
            docnum_of = internals.docnum_map(reader)  # a column of another layout: by a dict
            local = np.fromiter((docnum_of.get(pid, -1) for pid in paper_ids), dtype=np.int64,
                                count=len(paper_ids))
            mask[local[local >= 0] + offset] = True
        return mask

    # -- evaluation -----------------------------------------------------------------------------
    def evaluate(self, query: Any) -> Matches:
        """Every matching document with its score (Whoosh's BM25F, boosts, sums of Or and And)."""
        from whoosh import query as wq

        if isinstance(query, wq.Term):
            return self._term(query)
        if isinstance(query, wq.Or):
            return self._or(query.subqueries).scaled(query.boost)
        if isinstance(query, wq.And):
            return self._and(query.subqueries)
        if isinstance(query, wq.AndNot):
            base = self.evaluate(query.a)
            if not len(base):
                return base
            if len(base) > NARROW_SHARE * self.doc_count_all:
                return base.restricted(~self.evaluate(query.b).mask)
            docs, scores = base.documents()  # few: the excluded part is looked up there only
            excluded, _ = self._at(query.b, self._narrowed(docs, base.mask))
            return Matches.of_documents(docs[~excluded], scores[~excluded], self.doc_count_all)
        if isinstance(query, wq.Every):
            return self._constant(self._live.copy())
        if isinstance(query, wq.Not):  # Whoosh scores each document it keeps 1.0, unboosted
            return self._constant(self._live & ~self.evaluate(query.query).mask)
        if is_decided(query):
            return self._constant(query.mask & self._live)
        if isinstance(query, wq.NumericRange):
            return self._constant(self._range(query))
        if isinstance(query, wq.Prefix):
            return self._prefix(query)
        if isinstance(query, wq.Phrase):
            found = self._phrase(query)
            if found is not None:
                return found
        return self._whoosh(query)

    def _and(self, subqueries: list[Any]) -> Matches:
        """Documents matching every part, scored as the sum of the parts' scores (in their order).
        When the first part matches few documents (as the words typed before the last one do),
        the others are looked up at those documents only (`_at`): a common last word's list is
        then neither scored nor spread over whole-index arrays, and an empty first part ends it."""
        if not subqueries:
            return self._empty()
        first = self.evaluate(subqueries[0])
        if len(subqueries) > 1 and len(first) <= NARROW_SHARE * self.doc_count_all:
            docs, first_scores = first.documents()
            at = self._narrowed(docs, first.mask)
            has, scores = np.ones(len(docs), dtype=bool), first_scores.copy()
            for q in subqueries[1:]:
                if not has.any():
                    break
                part_has, part_scores = self._at(q, at)
                has &= part_has
                scores += part_scores
            return Matches.of_documents(docs[has], scores[has], self.doc_count_all)
        mask, scores = first.mask.copy(), first.scores.copy()
        for q in subqueries[1:]:  # in place: reducing a list first copies it into one 2-D array
            part = self.evaluate(q)
            mask &= part.mask
            part.add_scores_to(scores)
        return Matches(mask, np.where(mask, scores, 0.0))

    def _narrowed(self, docs: np.ndarray, mask: np.ndarray) -> Narrowed:
        places = np.empty(self.doc_count_all, dtype=np.int64)  # read only at `docs`
        places[docs] = np.arange(len(docs))
        return Narrowed(docs, mask, places)

    def _at(self, query: Any, at: Narrowed) -> tuple[np.ndarray, np.ndarray]:
        """`evaluate(query)` at the documents `at.docs` only: (matches, scores) per document of
        `at.docs`, the same values as the whole-index answer has there."""
        from whoosh import query as wq

        if isinstance(query, wq.Term):
            return self._or_at([query], 1.0, at)
        if isinstance(query, wq.Or):
            return self._or_at(query.subqueries, query.boost, at)
        if isinstance(query, wq.Prefix):
            terms = self._prefix_terms(query)
            if len(terms) == 1:
                return self._or_at([wq.Term(query.fieldname, terms[0])], 1.0, at)
            return self._or_at([wq.Term(query.fieldname, t) for t in terms], query.boost, at)
        if isinstance(query, wq.And) and query.subqueries:
            has, scores = self._at(query.subqueries[0], at)
            for q in query.subqueries[1:]:
                part_has, part_scores = self._at(q, at)
                has &= part_has
                scores += part_scores
            return has, np.where(has, scores, 0.0)
        if isinstance(query, wq.NumericRange) or is_decided(query):  # scored 1.0 where they hold
            has = self._range_at(query, at.docs) if isinstance(query, wq.NumericRange) else \
                query.mask[at.docs] & self._live[at.docs]
            return has, has.astype(np.float64)
        found = self.evaluate(query)  # anything else: the whole-index answer, read there
        return found.mask[at.docs], found.scores[at.docs]

    def _or_at(self, subqueries: list[Any], boost: float, at: Narrowed) -> tuple[np.ndarray, np.ndarray]:
        """`_or` at the documents `at.docs` (see `_at`)."""
        from whoosh import query as wq

        has, scores = np.zeros(len(at.docs), dtype=bool), np.zeros(len(at.docs))
        for q in subqueries:
            if isinstance(q, wq.Term):
                places, their_scores = self._term_at(q, at)
                has[places] = True
                scores[places] += their_scores if q.boost == 1 else their_scores * q.boost
            elif isinstance(q, wq.Phrase) and (found := self._phrase_docs(q)) is not None:
                ids, their_scores = found
                hit = at.mask[ids]
                places = at.places[ids[hit]]
                has[places] = True
                scores[places] += their_scores[hit]
            else:
                part_has, part_scores = self._at(q, at)
                has |= part_has
                scores += part_scores
        return has, (scores if boost == 1 else scores * boost)

    def _term_at(self, query: Any, at: Narrowed) -> tuple[np.ndarray, np.ndarray]:
        """A term's postings at the documents `at.docs`: (their places in it, their scores). A
        term not decoded yet is scored there only (and not kept: it is not the whole list);
        deleted documents are in no answer, so in no `at.docs`."""
        key = (query.fieldname, query.text)
        cached = self._postings.get(key)
        if cached is not None:
            self._postings.move_to_end(key)
            ids, scores = cached
            hit = at.mask[ids]
            return at.places[ids[hit]], scores[hit]
        lists, score = self._read(query.fieldname, query.text, keep=at.mask)
        if not lists:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids = lists[0][0] if len(lists) == 1 else np.concatenate([i for i, _ in lists])
        weights = lists[0][1] if len(lists) == 1 else np.concatenate([w for _, w in lists])
        return at.places[ids], score(ids, weights)

    def _term(self, query: Any) -> Matches:
        """A term's documents and scores (boosted), without whole-index arrays."""
        ids, scores = self.postings(query.fieldname, query.text)
        return Matches.of_documents(ids, scores if query.boost == 1 else scores * query.boost,
                                    self.doc_count_all)

    def _add_term(self, acc: Matches, query: Any) -> None:
        """Add a term's postings into `acc` in place (a term lists each document once)."""
        ids, scores = self.postings(query.fieldname, query.text)
        if len(ids):
            acc.mask[ids] = True
            acc.scores[ids] += scores if query.boost == 1 else scores * query.boost
            acc._count = None

    def _or(self, subqueries: list[Any]) -> Matches:
        from whoosh import query as wq

        # A prefix with no completion adds nothing; one term left is that term (0 + its scores).
        subqueries = [q for q in subqueries if not isinstance(q, wq.Prefix) or self._prefix_terms(q)]
        if len(subqueries) == 1 and isinstance(subqueries[0], wq.Term):
            return self._term(subqueries[0])
        acc = self._empty()
        for q in subqueries:
            if isinstance(q, wq.Term):  # most of an Or (a word over six fields, a prefix's terms)
                self._add_term(acc, q)
            elif isinstance(q, wq.Phrase) and (found := self._phrase_docs(q)) is not None:
                ids, scores = found  # a phrase over five fields: no whole-index arrays per field
                if len(ids):
                    acc.mask[ids] = True
                    acc.scores[ids] += scores
            elif isinstance(q, wq.Prefix) and len(terms := self._prefix_terms(q)) == 1:
                self._add_term(acc, wq.Term(q.fieldname, terms[0]))  # (unboosted, as `_prefix`)
            else:
                self.evaluate(q).add_to(acc.mask, acc.scores)
        acc._count = None
        return acc

    def _phrase(self, query: Any) -> Matches | None:
        """`_phrase_docs` as a `Matches`."""
        found = self._phrase_docs(query)
        if found is None:
            return None
        ids, scores = found
        matches = self._empty()
        matches.mask[ids] = True
        matches.scores[ids] = scores
        return matches

    def _phrase_docs(self, query: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """Papers having the words one after the other, found in the segments' word order files
        (word_order.py) among those having all of them; scored as the words' sum (as Whoosh
        scores a phrase). None when Whoosh's positions answer instead: a field the files do not
        record (notes, authors). A segment without its file (the index checks them at open)
        adds nothing for a field without positions. (docnums ascending, scores): the candidates
        are the words' postings intersected, never an array over the whole index (at 1M papers
        each of those costs ~1 ms, and a phrase is looked up in five fields)."""
        if query.fieldname not in self.schema:
            return None
        positions = self.schema[query.fieldname].format.supports("positions")
        words = [w.decode("utf-8") if isinstance(w, bytes) else w for w in query.words]
        if not words:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        if len(words) > 1 and (found := self._phrase_found(query.fieldname, words)) is not None:
            return self._scored_at(query.fieldname, words, found, query.boost)
        ids, scores = np.zeros(0, dtype=np.int64), np.zeros(0)
        for k, word in enumerate(words):  # an And of the words' terms, summed in their order
            their_ids, their_scores = self.postings(query.fieldname, word)
            if query.boost != 1:
                their_scores = their_scores * query.boost
            if k == 0:
                ids, scores = their_ids, their_scores
            else:
                mine, theirs = _common(ids, their_ids, self.doc_count_all)
                ids, scores = ids[mine], scores[mine] + their_scores[theirs]
            if not len(ids):
                break
        if len(words) < 2 or not len(ids):
            return ids, scores
        keep = np.zeros(len(ids), dtype=bool)
        bounds = np.searchsorted(ids, [offset for _, offset in self.leaves] + [self.doc_count_all])
        for k, ((_reader, offset), order) in enumerate(zip(self.leaves, self._word_orders, strict=True)):
            lo, hi = bounds[k], bounds[k + 1]
            among = ids[lo:hi] - offset
            found = order.documents_with(query.fieldname, words, among) if order is not None else None
            if found is None and positions:
                return None
            if found is not None:  # (among those documents: where they are among them)
                keep[lo + np.searchsorted(among, found)] = True
        return ids[keep], scores[keep]

    def _phrase_found(self, fieldname: str, words: list[str]) -> np.ndarray | None:
        """The live documents (ascending) whose field has the words in a row, from every leaf's
        word order file alone (a common pair's places are merged there in ~10 ms a segment at 1M
        papers, where intersecting their postings first cost more); None when a leaf has no file
        or the files do not record the field."""
        parts = []
        for (_reader, offset), order in zip(self.leaves, self._word_orders, strict=True):
            found = order.documents_with(fieldname, words) if order is not None else None
            if found is None:
                return None
            parts.append(found + offset)
        found = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return found[self._live[found]]

    def _scored_at(self, fieldname: str, words: list[str], docs: np.ndarray,
                   boost: float) -> tuple[np.ndarray, np.ndarray]:
        """`docs` scored as the sum of the words' scores there, in the words' order (the same
        numbers as the words' postings scored whole and added), leaving out any document a
        word's postings lack; a word's list is read at `docs` only (run by run, `_read`'s
        `keep`), unless it is cached whole."""
        keep = np.ones(len(docs), dtype=bool)
        total = np.zeros(len(docs))
        mask: np.ndarray | None = None
        for k, word in enumerate(words):
            cached = self._postings.get((fieldname, word))
            if cached is not None:
                ids, scores = cached
            else:
                if mask is None:
                    mask = np.zeros(self.doc_count_all, dtype=bool)
                    mask[docs] = True
                lists, score = self._read(fieldname, word, keep=mask)
                ids = np.concatenate([i for i, _ in lists]) if lists else np.zeros(0, dtype=np.int64)
            if not len(ids):
                return docs[:0], total[:0]
            at = np.minimum(np.searchsorted(ids, docs), len(ids) - 1)
            keep &= ids[at] == docs
            if cached is not None:
                theirs = scores[at]
            else:
                weights = lists[0][1] if len(lists) == 1 else np.concatenate([w for _, w in lists])
                theirs = score(docs, weights[at])
            if boost != 1:
                theirs = theirs * boost
            total = theirs if k == 0 else total + theirs
        return docs[keep], total[keep]

    def _range(self, query: Any) -> np.ndarray:
        has, values = self.column(query.fieldname)
        return _within(query, has & self._live, values)

    def _range_at(self, query: Any, docs: np.ndarray) -> np.ndarray:
        """`_range(query)` at the documents `docs` only."""
        has, values = self.column(query.fieldname)
        return _within(query, has[docs] & self._live[docs], values[docs])

    def _prefix(self, query: Any) -> Matches:
        """As Whoosh does: an Or of the completions (one completion: that term, unboosted)."""
        from whoosh import query as wq

        terms = self._prefix_terms(query)
        if len(terms) == 1:
            return self.evaluate(wq.Term(query.fieldname, terms[0]))
        return self._or([wq.Term(query.fieldname, t) for t in terms]).scaled(query.boost)

    def _prefix_terms(self, query: Any) -> list[str]:
        """The terms of the field starting with the prefix, sorted."""
        terms: set[str] = set()
        for reader, _ in self.leaves:
            try:
                terms.update(t.decode("utf-8") if isinstance(t, bytes) else t
                             for t in reader.expand_prefix(query.fieldname, query.text))
            except KeyError:
                continue
        return sorted(terms)

    def _whoosh(self, query: Any) -> Matches:
        """Whoosh's own matcher, for query kinds without a rule here (a lean field's term,
        whose Whoosh postings our writer leaves out, makes it raise: whoosh_internals.py)."""
        matcher = query.matcher(self.searcher, self.searcher.context())
        found = self._empty()
        while matcher.is_active():
            found.mask[matcher.id()] = True
            found.scores[matcher.id()] = matcher.score()
            matcher.next()
        return found


def _within(query: Any, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`mask` (in place) where `values` are within the NumericRange `query`."""
    if query.start is not None:
        mask &= values > query.start if query.startexcl else values >= query.start
    if query.end is not None:
        mask &= values < query.end if query.endexcl else values <= query.end
    return mask


def _matched(reader: Any, fieldname: str, tbytes: bytes) -> tuple[np.ndarray, np.ndarray] | None:
    """A term's (docnums, weights) in a leaf through Whoosh's matcher (None: no such term)."""
    from whoosh.reading import TermNotFound

    try:
        m = reader.postings(fieldname, tbytes)
    except (TermNotFound, KeyError):
        return None
    ids: list[int] = []
    weights: list[float] = []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return np.array(ids, dtype=np.int64), np.array(weights)


def top(scored: Matches, limit: int | None, keys: list[Column] | None = None) -> list[int]:
    """The best `limit` docnums (all when None): by score, or by `keys` (columns compared in
    order, documents with a value first, higher first), then by score; ties by docnum."""
    docnums, scores = scored.documents()
    if not keys:
        if limit is not None and limit < len(docnums):
            best = np.argpartition(-scores, limit - 1)[:limit]
            docnums, scores = docnums[best], scores[best]
        order = np.lexsort((docnums, -scores))
    else:
        sort_keys: list[np.ndarray] = [docnums, -scores]
        for has, values in reversed(keys):
            sort_keys += [-values[docnums], ~has[docnums]]
        order = np.lexsort(sort_keys)  # the last key is the primary one
    if limit is not None:
        order = order[:limit]
    return docnums[order].tolist()
