"""Evaluate a compiled Whoosh query over whole decoded posting lists, with Python sets and dicts.

Whoosh's matcher trees walk postings one at a time through layers of Python method calls (an
Or over six fields of a common word costs 100s of ms at 100k papers, and the exact total costs a
second walk). Here each term's postings are decoded block by block (one unpickle per 128
postings), scored once with Whoosh's own BM25F formula and kept in a small per-searcher cache;
Or, And and AndNot become dict and set operations that run in C. Query kinds without a rule here
(phrases, anything unusual) are still matched by Whoosh itself, so results never depend on which
path answered.
"""

from __future__ import annotations

import heapq
import pickle
import struct
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator
from io import BytesIO
from itertools import accumulate
from typing import Any

from paperdesk.core.search.phrases import contains_phrase

Scored = dict[int, float]  # global docnum -> score
_INT = struct.Struct("!i")  # whoosh.system's int

K1, B = 1.2, 0.75           # whoosh.scoring.BM25F defaults (the searcher's weighting)
PHRASE_CHECKS = 1500       # phrase candidates confirmed against their text, at most
RANGE_SCAN = 2000           # more candidates than this: a range cuts the sorted column
POSTING_BUDGET = 3_000_000  # decoded postings kept per searcher (~36 MB at 12 bytes each)


Texts = Callable[[str, list[str]], dict[str, str]]  # (field, paper ids) -> {paper id: text}


class IndexView:
    """One searcher's documents as plain Python data, built lazily and cached until it closes.

    `texts` reads fields from the library, to confirm phrases in fields indexed without positions.
    After an evaluation, `exact` is False when a phrase had more candidates than could be checked:
    only the best-scored PHRASE_CHECKS were, so the matches found are a lower bound."""

    def __init__(self, searcher: Any, texts: Texts | None = None):
        self.searcher = searcher
        self.texts = texts
        self.exact = True
        self.schema = searcher.schema
        self.leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.doc_count_all = searcher.doc_count_all()
        self._postings: OrderedDict[tuple[str, str], tuple[array, array]] = OrderedDict()
        self._cached = 0
        self._lengths: dict[str, list[bytes]] = {}
        self._columns: dict[str, list[int | None]] = {}
        self._sorted: dict[str, tuple[list[int], list[int]]] = {}
        self._deleted: list[frozenset[int]] = [
            frozenset(r.deleted_docs_set) if r.has_deletions() else frozenset() for r, _ in self.leaves]
        self._live: frozenset[int] | None = None
        self._ids: dict[int, str] = {}
        self._id_columns: list[Any] | None = None
        self._offsets = [offset for _, offset in self.leaves]

    # -- postings -------------------------------------------------------------------------------
    def postings(self, fieldname: str, text: str) -> tuple[array, array]:
        """(docnums, BM25F scores) of a term, deleted documents left out."""
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

    def _decode(self, fieldname: str, text: str) -> tuple[array, array]:
        from whoosh.codec.whoosh3 import W3LeafMatcher
        from whoosh.reading import TermNotFound
        from whoosh.util.numeric import byte_to_length

        all_ids, all_scores = array("i"), array("d")
        if fieldname not in self.schema:
            return all_ids, all_scores
        field = self.schema[fieldname]
        tbytes = field.to_bytes(text) if not isinstance(text, bytes) else text
        scorable = field.scorable
        coef, norms = 0.0, []
        for leaf, ((reader, offset), deleted) in enumerate(zip(self.leaves, self._deleted, strict=True)):
            try:
                terms = getattr(reader, "_terms", None)  # a SegmentReader's, without the deletion filter
                m = terms.matcher(fieldname, tbytes, field.format) if terms is not None \
                    else reader.postings(fieldname, tbytes)
            except (TermNotFound, KeyError):
                continue
            ids: list[int] = []
            weights: list[float] = []
            if isinstance(m, W3LeafMatcher):
                for data in _blocks(m):
                    block = list(data[0]) if m._byteids else list(accumulate(data[0]))
                    ids += block
                    w = data[1]
                    weights += [1.0] * len(block) if w is None else \
                        [w] * len(block) if isinstance(w, float) else w
            else:  # a ListMatcher (postings inlined in the term info) or anything else
                while m.is_active():
                    ids.append(m.id())
                    weights.append(m.weight())
                    m.next()
            if deleted:
                kept = [i for i, d in enumerate(ids) if d not in deleted]
                ids = [ids[i] for i in kept]
                weights = [weights[i] for i in kept]
            if scorable and not norms and ids:  # Whoosh's global statistics, once per term
                coef = self.searcher.idf(fieldname, text) * (K1 + 1)
                avgfl = self.searcher.avg_field_length(fieldname) or 1
                norms = [K1 * ((1 - B) + B * byte_to_length(b) / avgfl) for b in range(256)]
            if scorable:
                lengths = self._field_lengths(fieldname)[leaf]
                scores = [coef * w / (w + norms[lengths[d]]) for d, w in zip(ids, weights, strict=True)]
            else:
                scores = [1.0] * len(ids)
            all_ids.extend([d + offset for d in ids] if offset else ids)
            all_scores.extend(scores)
        return all_ids, all_scores

    def _field_lengths(self, fieldname: str) -> list[bytes]:
        """Per leaf, each document's field length as Whoosh's one-byte code."""
        found = self._lengths.get(fieldname)
        if found is None:
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

            found = []
            for reader, _ in self.leaves:
                n = reader.doc_count_all()
                perdoc = getattr(reader, "_perdoc", None)
                col = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) if perdoc else None
                raw = col._dbfile.get(col._basepos, col._count) if col is not None and col._count else b""
                found.append(bytes(raw[:n]) + bytes(max(0, n - len(raw))))
            self._lengths[fieldname] = found
        return found

    # -- columns and documents ------------------------------------------------------------------
    def column(self, fieldname: str) -> list[int | None]:
        """A sortable numeric field's value for every global docnum (None when missing)."""
        found = self._columns.get(fieldname)
        if found is None:
            field = self.schema[fieldname]
            code = field.sortable_typecode  # unsigned; signed numbers are stored shifted
            values = array(code)
            missing = (1 << (8 * values.itemsize)) - 1  # Whoosh's value for "no value"
            shift = 1 << (field.bits - 1) if field.signed else 0
            found = []
            for reader, _ in self.leaves:
                n = reader.doc_count_all()
                values = array(code)
                if reader.has_column(fieldname):
                    col = reader.column_reader(fieldname, translate=False)
                    raw = col._dbfile.get(col._basepos, col._count * col._fixedlen) if col._count else b""
                    values.frombytes(bytes(raw))
                    if values.itemsize > 1:
                        values.byteswap()  # stored big-endian
                found += [None if v == missing else v - shift for v in values[:n]]
                found += [None] * (n - min(n, len(values)))
            self._columns[fieldname] = found
        return found

    def live(self) -> frozenset[int]:
        """Every document that is not deleted."""
        if self._live is None:
            docs: set[int] = set()
            for (reader, offset), deleted in zip(self.leaves, self._deleted, strict=True):
                docs.update(d + offset for d in range(reader.doc_count_all()) if d not in deleted)
            self._live = frozenset(docs)
        return self._live

    def paper_id(self, docnum: int) -> str:
        found = self._ids.get(docnum)
        if found is None:
            if self._id_columns is None:
                self._id_columns = [r.column_reader("id") if r.has_column("id") else None
                                    for r, _ in self.leaves]
            leaf = bisect_right(self._offsets, docnum) - 1
            column = self._id_columns[leaf]
            if column is not None:
                found = column[docnum - self._offsets[leaf]]
                found = found.decode("utf-8") if isinstance(found, bytes) else found
            else:  # an index written before `id` had a column
                found = self.searcher.stored_fields(docnum)["id"]
            self._ids[docnum] = found
        return found

    # -- evaluation -----------------------------------------------------------------------------
    def evaluate(self, query: Any) -> Scored:
        """Every matching document with its score (Whoosh's BM25F, boosts, sums of Or and And)."""
        from whoosh import query as wq

        if isinstance(query, wq.Term):
            ids, scores = self.postings(query.fieldname, query.text)
            boost = query.boost
            return dict(zip(ids, scores if boost == 1 else (s * boost for s in scores), strict=True))
        if isinstance(query, wq.Or):
            found = _union([self.evaluate(q) for q in query.subqueries])
            return found if query.boost == 1 else {d: s * query.boost for d, s in found.items()}
        if isinstance(query, wq.And):
            return self._intersect(query.subqueries)
        if isinstance(query, wq.AndNot):
            base = self.evaluate(query.a)
            if not base:
                return base
            excluded = self.evaluate(query.b)
            return {d: s for d, s in base.items() if d not in excluded}
        if isinstance(query, wq.Every):
            return dict.fromkeys(self.live(), 1.0)
        if isinstance(query, wq.NumericRange):
            return dict.fromkeys(self._range_docs(query, self.live()), 1.0)
        if isinstance(query, wq.Prefix):
            return self._prefix(query)
        if isinstance(query, wq.Phrase) and query.fieldname in self.schema and \
                not self.schema[query.fieldname].format.supports("positions"):
            return self._phrase_by_text(query)
        return self._whoosh(query)

    def _phrase_by_text(self, query: Any) -> Scored:
        """Papers having all the words, confirmed against their text; scored as the words' sum."""
        from whoosh import query as wq

        words = [w.decode("utf-8") if isinstance(w, bytes) else w for w in query.words]
        candidates = self._intersect([wq.Term(query.fieldname, w, boost=query.boost) for w in words])
        if len(words) < 2 or not candidates:
            return candidates
        if self.texts is None:
            return {}
        docnums: Any = candidates
        if len(candidates) > PHRASE_CHECKS:
            self.exact = False
            docnums = top(candidates, PHRASE_CHECKS)
        ids = {d: self.paper_id(d) for d in docnums}
        texts = self.texts(query.fieldname, list(ids.values()))
        stems = tuple(words)
        return {d: candidates[d] for d, pid in ids.items() if contains_phrase(texts.get(pid) or "", stems)}

    def _intersect(self, subqueries: list[Any]) -> Scored:
        """An And in two passes: which documents match (set operations in C), then the scores of
        only those (a common word's Or over six fields is never built as a dict)."""
        from whoosh import query as wq

        ranges = [q for q in subqueries if isinstance(q, wq.NumericRange)]
        others = [q for q in subqueries if not isinstance(q, wq.NumericRange)]
        if not others:
            return dict.fromkeys(self._ranges_docs(ranges, self.live()), 1.0 * len(ranges))
        if len(others) == 1 and not ranges:
            return self.evaluate(others[0])
        keep = self._docs_of_and(ranges, others)
        acc = dict.fromkeys(keep, 1.0 * len(ranges))  # Whoosh scores a range 1.0 (constant)
        for q in others:
            for d, score in self._scores_within(q, keep).items():
                acc[d] += score
        return acc

    def _docs_of_and(self, ranges: list[Any], others: list[Any]) -> set[int]:
        sets = sorted((self.docs(q) for q in others), key=len)
        keep = set(sets[0]).intersection(*sets[1:])
        return self._ranges_docs(ranges, keep) if ranges and keep else keep

    def docs(self, query: Any) -> set[int] | frozenset[int]:
        """The documents matching `query`, without scores."""
        from whoosh import query as wq

        if isinstance(query, wq.Term):
            return set(self.postings(query.fieldname, query.text)[0])
        if isinstance(query, wq.Or):
            return set().union(*(self.docs(q) for q in query.subqueries))
        if isinstance(query, wq.And):
            ranges = [q for q in query.subqueries if isinstance(q, wq.NumericRange)]
            others = [q for q in query.subqueries if not isinstance(q, wq.NumericRange)]
            return self._docs_of_and(ranges, others) if others else self._ranges_docs(ranges, self.live())
        if isinstance(query, wq.AndNot):
            base = self.docs(query.a)
            return base - self.docs(query.b) if base else base
        if isinstance(query, wq.Every):
            return self.live()
        if isinstance(query, wq.NumericRange):
            return self._range_docs(query, self.live())
        return set(self.evaluate(query))

    def _scores_within(self, query: Any, keep: set[int]) -> Scored:
        """The scores `evaluate` would give, for the documents of `keep` that match `query`."""
        from whoosh import query as wq

        if not keep:
            return {}
        if isinstance(query, wq.Term):
            ids, scores = self.postings(query.fieldname, query.text)
            boost = query.boost
            if len(keep) * 8 < len(ids):  # few documents: look each up (the ids are sorted)
                found: Scored = {}
                n = len(ids)
                for d in keep:
                    i = bisect_left(ids, d)
                    if i < n and ids[i] == d:
                        found[d] = scores[i] * boost
                return found
            return {d: s * boost for d, s in zip(ids, scores, strict=True) if d in keep}
        if isinstance(query, wq.Or):
            found = _union([self._scores_within(q, keep) for q in query.subqueries])
            return found if query.boost == 1 else {d: s * query.boost for d, s in found.items()}
        if isinstance(query, wq.And):
            return self._intersect_within(query.subqueries, keep)
        if isinstance(query, wq.AndNot):
            inside = keep & self.docs(query)
            return self._scores_within(query.a, inside) if inside else {}
        scored = self.evaluate(query)
        return {d: scored[d] for d in keep if d in scored}

    def _intersect_within(self, subqueries: list[Any], keep: set[int]) -> Scored:
        from whoosh import query as wq

        ranges = [q for q in subqueries if isinstance(q, wq.NumericRange)]
        others = [q for q in subqueries if not isinstance(q, wq.NumericRange)]
        inside = set(keep)
        for q in others:
            inside &= self.docs(q)
        if ranges and inside:
            inside = self._ranges_docs(ranges, inside)
        acc = dict.fromkeys(inside, 1.0 * len(ranges))
        for q in others:
            for d, score in self._scores_within(q, inside).items():
                acc[d] += score
        return acc

    def _ranges_docs(self, ranges: list[Any], docs: Any) -> set[int]:
        for q in ranges:
            docs = self._range_docs(q, docs)
        return set(docs)

    def _range_docs(self, query: Any, docs: Any) -> set[int]:
        low = query.start if query.start is not None else float("-inf")
        high = query.end if query.end is not None else float("inf")
        if len(docs) > RANGE_SCAN:  # many candidates (or all documents): cut the sorted column instead
            values, docnums = self._sorted_column(query.fieldname)
            lo = (bisect_right if query.startexcl else bisect_left)(values, low)
            hi = (bisect_left if query.endexcl else bisect_right)(values, high)
            inside = set(docnums[lo:hi])
            return inside if docs is self._live else inside & set(docs)
        values = self.column(query.fieldname)
        return {d for d in docs if (v := values[d]) is not None and
                (low < v if query.startexcl else low <= v) and (v < high if query.endexcl else v <= high)}

    def _sorted_column(self, fieldname: str) -> tuple[list[int], list[int]]:
        """The live documents having a value, as (values ascending, their docnums)."""
        found = self._sorted.get(fieldname)
        if found is None:
            values = self.column(fieldname)
            docnums = sorted((d for d in self.live() if values[d] is not None), key=values.__getitem__)
            found = self._sorted[fieldname] = ([values[d] for d in docnums], docnums)  # type: ignore[misc]
        return found

    def _prefix(self, query: Any) -> Scored:
        """As Whoosh does: an Or of the completions (one completion: that term, unboosted)."""
        from whoosh import query as wq

        terms: set[str] = set()
        for reader, _ in self.leaves:
            try:
                terms.update(t.decode("utf-8") if isinstance(t, bytes) else t
                             for t in reader.expand_prefix(query.fieldname, query.text))
            except KeyError:
                continue
        if len(terms) == 1:
            return self.evaluate(wq.Term(query.fieldname, terms.pop()))
        return self.evaluate(wq.Or([wq.Term(query.fieldname, t) for t in sorted(terms)], boost=query.boost))

    def _whoosh(self, query: Any) -> Scored:
        """Whoosh's own matcher, for query kinds without a rule here (e.g. phrases)."""
        matcher = query.matcher(self.searcher, self.searcher.context())
        found: Scored = {}
        while matcher.is_active():
            found[matcher.id()] = matcher.score()
            matcher.next()
        return found


def _blocks(m: Any) -> Iterator[tuple]:
    """The (ids, weights, values) data of every block of a W3LeafMatcher's posting list, from one
    read of the whole list (Whoosh reads each block's header and data separately: several system
    calls a block when the index is not memory-mapped). Layout as W3LeafMatcher._goto reads it:
    per block an int length (negative for the last), a pickled info tuple, then the data."""
    size = m._length[0] if isinstance(m._length, tuple) else m._length  # 2.7.5 keeps it as a 1-tuple
    buf = memoryview(m._postfile.get(m._startoffset, size))
    pos = m._baseoffset - m._startoffset  # after the header tag
    while True:
        (length,) = _INT.unpack_from(buf, pos)
        end = pos + _INT.size + abs(length)
        stream = BytesIO(buf[pos + _INT.size:end])
        info = pickle.load(stream)
        data = buf[pos + _INT.size + stream.tell():end]
        yield pickle.loads(zlib.decompress(data) if info[3] else data)
        if length < 0 or end >= len(buf):
            return
        pos = end


def _union(parts: list[Scored]) -> Scored:
    parts = [p for p in parts if p]
    if not parts:
        return {}
    parts.sort(key=len, reverse=True)
    acc = dict(parts[0])
    for other in parts[1:]:
        both = [(d, acc[d]) for d in other.keys() & acc.keys()]
        acc.update(other)
        for d, s in both:
            acc[d] += s
    return acc


def top(scored: Scored, limit: int | None, key: Any = None) -> list[int]:
    """The best `limit` docnums (all when None), by score or by `key` (higher first)."""
    key = key or scored.__getitem__
    if limit is None or limit >= len(scored):
        return sorted(scored, key=key, reverse=True)
    return heapq.nlargest(limit, scored, key=key)
