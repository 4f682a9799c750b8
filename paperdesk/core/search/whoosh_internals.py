"""Every use of Whoosh's internals, in one module: private attributes, its W3 codec's file layout.

They make the index fast (writer: postings pooled by term and written a block at a time, field
lengths read once, one segment per build worker; reader: columns, ids and field lengths read as
arrays) and they are written for WRITTEN_FOR. With another
Whoosh installed (or PAPERDESK_WHOOSH_STOCK=1 in the environment, or `force_stock(True)`),
`usable()` is False and the index uses Whoosh's public API only: written by `ix.writer()`, searched
by `searcher.search` (stock.py), with positions in every text field (no word order files). The
index records which path wrote it (`writer_tag()`): the other path rebuilds it.

Writing, as Whoosh's `SegmentWriter` does, faster where a build spends its time:
- Postings are pooled by term and written a block at a time (term_pool.py, `write_pool`), instead
  of sorted tuples written one by one: about half of a build.
- Whoosh's writer looks up the document's field length for every posting it writes (for the
  block statistics BM25 uses), through a column reader on the file it just wrote: ~4 us a
  posting. Here each field's length bytes are read once into memory.
- The posting lists are also written as arrays beside the segment (sidecar.py: what the evaluator
  reads), and the words of titles, abstracts and PDF texts in order (word_order.py), for phrases.
- Lean (`LEAN`): the fields whose lists only the evaluator reads (`EVALUATOR_ONLY`) and spelling
  words keep their term dictionary entries (document frequencies for scores, completions,
  prefixes, did-you-mean; `SIDECAR_ONLY` fields, looked up by nothing, not even those) but no
  Whoosh postings: their term infos point at a block that makes
  a Whoosh matcher fail loudly (never silently empty). Numbers are not indexed as terms at all
  (ranges read their columns). A merge takes those lists from the merged segment's postings
  file and its spelling words from its term dictionary. ~1,000 bytes a paper less.
"""

from __future__ import annotations

import os
import pickle
import sys
import zlib
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from paperdesk.core.search import word_order
from paperdesk.core.search.sidecar import Collector, Sidecar, path_for, sidecar_for
from paperdesk.core.search.term_pool import TermPool

WRITTEN_FOR = frozenset({"2.7.5"})  # the Whoosh versions whose internals this module knows
STOCK_ENV = "PAPERDESK_WHOOSH_STOCK"  # set (to anything but "" or "0"): Whoosh's public API only
_forced: bool | None = None
_BIG_ENDIAN = sys.byteorder == "big"


def force_stock(stock: bool | None) -> None:
    """Use Whoosh's public API only (True), the internals (False, if the version allows), or
    decide by version and environment (None). For tests; takes effect for indexes opened after."""
    global _forced
    _forced = stock


def usable() -> bool:
    """Whether the installed Whoosh is one this module was written for, and not turned off."""
    import whoosh

    if _forced is not None:
        return not _forced and whoosh.versionstring() in WRITTEN_FOR
    if os.environ.get(STOCK_ENV, "") not in ("", "0"):
        return False
    return whoosh.versionstring() in WRITTEN_FOR


def writer_tag(fast: bool) -> str:
    """What the index records about the path that wrote it."""
    import whoosh

    return f"paperdesk {whoosh.versionstring()}" if fast else "stock"


# -- writing ---------------------------------------------------------------------------------------
# Fields whose posting lists the evaluator reads from the postings files only: word queries,
# prefixes (expanded in the term dictionary), phrases (word order files). Notes, authors,
# organisations and sources keep Whoosh's postings (phrases there use Whoosh's positions), as do
# ids (deletes by term), tags, flags, arXiv ids and categories (small; cat: wildcards).
EVALUATOR_ONLY = frozenset({"title", "title_ng", "abstract", "fulltext"})
# ... and of those, the fields no one looks up in Whoosh's term dictionary either (no completions,
# prefixes, did-you-mean or key terms; the evaluator counts their document frequencies in the
# postings files): their terms are in the postings files only.
SIDECAR_ONLY = frozenset({"title_ng", "fulltext"})
LEAN = True  # False: write every Whoosh posting (tests compare such segments with Whoosh's bytes)
NO_POSTINGS = b"PDNO"  # where a lean term's info points: not Whoosh's block tag, so a read raises


def lean_fields(schema: Any) -> frozenset[str]:
    """The fields whose Whoosh postings our writer leaves out (nothing unless LEAN)."""
    from whoosh.fields import SpellField

    if not LEAN:
        return frozenset()
    return frozenset(name for name in schema.names()
                     if name in EVALUATOR_ONLY or isinstance(schema[name], SpellField))


def unindexed_numbers(schema: Any) -> frozenset[str]:
    """Numeric fields not indexed as terms (ranges read their columns; nothing unless LEAN)."""
    from whoosh.fields import NUMERIC

    if not LEAN:
        return frozenset()
    return frozenset(name for name in schema.names() if isinstance(schema[name], NUMERIC))


# The term pool's postings in memory at most (~30 bytes each with its terms: 6M is ~180 MB,
# ~26,000 papers); past it they move to a sorted run on disk (term_pool.py).
POOL_LIMIT = 6_000_000


class _Lengths:
    """`doc_field_length` of a per-document reader, from bytes loaded once per field."""

    def __init__(self, reader: Any):
        from whoosh.util.numeric import byte_to_length

        self._reader = reader
        self._bytes: dict[str, bytes] = {}
        # Code 0 means no length: None, as W3PerDocReader answers.
        self.table: list[int | None] = [None] + [byte_to_length(b) for b in range(1, 256)]

    def _load(self, fieldname: str) -> bytes:
        raw = _perdoc_length_bytes(self._reader, fieldname)
        self._bytes[fieldname] = raw
        return raw

    def field_bytes(self, fieldname: str) -> bytes:
        """The length code of each document in `fieldname` (byte_to_length decodes one)."""
        raw = self._bytes.get(fieldname)
        return self._load(fieldname) if raw is None else raw

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        raw = self.field_bytes(fieldname)
        return self.table[raw[docnum]] if docnum < len(raw) else None

    def close(self) -> None:
        self._reader.close()


def _unread(schema: Any) -> Callable[[str], bool]:
    """Fields whose lists no query reads by term: spelling words, numbers (ranges read columns)."""
    from whoosh.fields import NUMERIC, SpellField

    skipped = {name for name in schema.names() if isinstance(schema[name], SpellField | NUMERIC)}
    return lambda fieldname: fieldname in skipped or fieldname not in schema


def segment_writer(ix: Any, **kwargs: Any) -> Any:
    """`ix.writer(**kwargs)` for one process, with pooled postings and in-memory field lengths."""
    from whoosh.codec.whoosh3 import W3FieldWriter, W3PerDocReader
    from whoosh.formats import Frequency
    from whoosh.writing import SegmentWriter

    from paperdesk.core.search.analysis import FastStemAnalyzer

    class PooledSegmentWriter(SegmentWriter):
        def __init__(self, ix: Any, **kwargs: Any):
            super().__init__(ix, **kwargs)
            # The term pool writes W3 blocks itself: only for the W3 codec, postings never inlined.
            # No term vectors: add_document below does not write them.
            if isinstance(self.fieldwriter, W3FieldWriter) and self.codec._inlinelimit <= 1 and \
                    not any(self.schema[name].vector for name in self.schema.names()):
                self.pool = TermPool(self.schema, limit=POOL_LIMIT,
                                     spill_dir=getattr(self._tempstorage, "folder", None))
            # Fields our analyzer reads. Where their terms are counted words, they are pooled
            # without Whoosh's token objects (most of an index's postings are abstract words).
            self._analyzed = {name for name in self.schema.names()
                              if isinstance(getattr(self.schema[name], "analyzer", None), FastStemAnalyzer)}
            # Lean only on disk: the postings files hold what Whoosh's segments leave out.
            on_disk = getattr(self.storage, "folder", None) is not None
            self._lean = lean_fields(self.schema) if on_disk else frozenset()
            self._unindexed = unindexed_numbers(self.schema) if on_disk else frozenset()
            # (A lean field's positions are never written: its words are counted too.)
            self._counted = {name for name in self._analyzed
                             if type(self.schema[name].format) is Frequency or name in self._lean}
            self.word_order = word_order.Recorder()  # titles' and abstracts' words, in order
            # Edge n-gram fields (title_ng): their grams made in one loop, pooled as counted words.
            self._grams = {name: found for name in self.schema.names()
                           if (found := _edge_grams(self.schema[name])) is not None}

        def add_document(self, **fields: Any) -> None:
            """Whoosh's `SegmentWriter.add_document`, giving each field's terms to the term pool
            in one call instead of one call a posting."""
            pool = self.pool
            if not isinstance(pool, TermPool):
                return super().add_document(**fields)
            from whoosh.util.text import utf8encode

            self._check_state()
            perdocwriter, schema, docnum = self.perdocwriter, self.schema, self.docnum
            docboost = self._doc_boost(fields)
            fieldnames = sorted(name for name in fields if not name.startswith("_"))
            self._check_fields(schema, fieldnames)
            perdocwriter.start_doc(docnum)
            vbytes = None
            try:
                for fieldname in fieldnames:
                    value = fields.get(fieldname)
                    if value is None:
                        continue
                    field = schema[fieldname]
                    length = 0
                    if field.indexed and fieldname not in self._unindexed:
                        boost = self._field_boost(fields, fieldname, docboost)
                        words = field.analyzer.words(value) \
                            if fieldname in self._analyzed and isinstance(value, str) else None
                        grams = self._grams.get(fieldname) if isinstance(value, str) else None
                        if grams is not None:
                            length, vbytes = pool.add_words(fieldname, docnum, grams(value),
                                                            field.format.field_boost, boost,
                                                            field.scorable, vbytes)
                        elif words is not None and fieldname in self._counted:
                            length, vbytes = pool.add_words(fieldname, docnum, words,
                                                            field.format.field_boost, boost,
                                                            field.scorable, vbytes)
                        else:
                            length, vbytes = pool.add_terms(fieldname, docnum, field.index(value), boost,
                                                            field.scorable, vbytes)
                        if words is not None and fieldname in word_order.FIELDS:
                            self.word_order.add(fieldname, docnum, words)
                    if field.separate_spelling():
                        spellfield = field.spelling_fieldname(fieldname)
                        for word in field.spellable_words(value):
                            pool.add((spellfield, utf8encode(word)[0], 0, 1, vbytes))
                    if field.vector:
                        raise NotImplementedError("term vectors are not pooled by term")
                    customval = fields.get(f"_stored_{fieldname}", value)
                    perdocwriter.add_field(fieldname, field, customval if field.stored else None, length)
                    column = field.column_type
                    if column and customval is not None:
                        perdocwriter.add_column_value(fieldname, column, field.to_column_value(customval))
            except Exception:
                perdocwriter.cancel_doc()
                raise
            perdocwriter.finish_doc()
            self._added = True
            self.docnum += 1
            return None

        def add_postings_to_pool(self, reader: Any, startdoc: int, docmap: Any) -> None:
            """A segment merged in (`docmap`: its old docnum -> the new one, when it has
            deletions): its words' order comes along, and the lists Whoosh's postings lack
            (lean fields) are read from its postings file."""
            folder, segment = getattr(self.storage, "folder", None), segment_id(reader)
            order = word_order.word_order_for(Path(folder), segment) if folder and segment else None
            if order is None:
                self.word_order.complete = False  # no file for the merged segment either
            else:
                size = reader.doc_count_all()
                new = np.arange(startdoc, startdoc + size) if docmap is None else np.full(size, -1)
                if docmap is not None:
                    new[list(docmap)] = list(docmap.values())
                self.word_order.add_segment(order, new)
            if not self._lean and not self._unindexed:
                return super().add_postings_to_pool(reader, startdoc, docmap)
            lists = sidecar_for(Path(folder), segment) if folder and segment else None
            for item in self._process_posts(self._whoosh_postings(reader, lists), startdoc, docmap):
                self.pool.add(item)
            if lists is not None:
                self._add_lists(lists, startdoc, docmap)
            return None

        def _whoosh_postings(self, reader: Any, lists: Sidecar | None) -> Any:
            """The merged segment's postings that Whoosh's files hold (deleted documents left
            out by its matchers); its spelling words go to the pool directly."""
            from whoosh.fields import SpellField

            for fieldname, btext in reader.all_terms():
                if fieldname in self._unindexed:
                    continue
                if fieldname in self._lean and lists is not None and lists.covers(fieldname):
                    continue  # from the postings file (_add_lists)
                if fieldname in self._lean and isinstance(self.schema[fieldname], SpellField):
                    # A spelling word, filed under document 0 as our writer does (Whoosh's merge
                    # loses a segment's words when its document 0 was deleted).
                    self.pool.add((fieldname, btext, 0, 1, b""))
                    continue
                m = reader.postings(fieldname, btext)  # (raises for a lean list without its file)
                while m.is_active():
                    yield fieldname, btext, m.id(), m.weight(), m.value()
                    m.next()

        def _add_lists(self, lists: Sidecar, startdoc: int, docmap: Any) -> None:
            """The lean fields' lists of a merged segment, from its postings file."""
            pool = self.pool
            for fieldname in sorted(self._lean):
                if fieldname not in self.schema or not lists.covers(fieldname):
                    continue
                for text, docnums, weights in lists.field_lists(fieldname):
                    if docmap is None:
                        new = docnums + startdoc
                    else:
                        mapped = [docmap.get(d, -1) for d in docnums.tolist()]
                        new = np.asarray(mapped, dtype=np.int64)
                        keep = new >= 0
                        new, weights = new[keep], weights[keep]
                    if len(new):
                        pool.add_list(fieldname, text, new, weights)

        def _flush_segment(self) -> None:
            self.perdocwriter.close()
            pdr = self.per_document_reader() if self.codec.length_stats else None
            lengths = _Lengths(pdr) if isinstance(pdr, W3PerDocReader) else pdr
            folder = getattr(self.storage, "folder", None)  # a folder on disk (not RAM storage)
            if isinstance(self.pool, TermPool):
                collector = Collector(skip=_unread(self.schema)) if folder else None
                write_pool(self.pool, self.fieldwriter, self.schema, lengths, collector, self._lean)
            else:
                postings = self.pool.iter_postings()
                collector = Collector(postings, _unread(self.schema)) if folder else None
                self.fieldwriter.add_postings(self.schema, lengths, collector or postings)
            self.fieldwriter.close()
            if lengths:
                lengths.close()
            if collector is not None:
                collector.write(path_for(Path(folder), self.newsegment.segment_id()))
            if folder and isinstance(self.pool, TermPool):
                self.word_order.write(word_order.path_for(Path(folder), self.newsegment.segment_id()),
                                      self.docnum)

    return PooledSegmentWriter(ix, **kwargs)


def _edge_grams(field: Any) -> Callable[[str], list[str]] | None:
    """For a field analysed as Whoosh's NGRAMWORDS at="start" (a regex tokenizer, lowercase,
    n-grams from each word's start) with a Frequency format: a function giving a text's n-grams
    as that analyzer's tokens would (Whoosh makes a Token object and three generator frames for
    each: a tenth of a build). None for any other field."""
    from whoosh.analysis import CompositeAnalyzer, LowercaseFilter, NgramFilter, RegexTokenizer
    from whoosh.formats import Frequency

    analyzer = getattr(field, "analyzer", None)
    if not isinstance(analyzer, CompositeAnalyzer) or type(field.format) is not Frequency:
        return None
    items = analyzer.items
    if len(items) != 3 or type(items[0]) is not RegexTokenizer or items[0].gaps or \
            type(items[1]) is not LowercaseFilter or type(items[2]) is not NgramFilter or items[2].at != -1:
        return None
    finditer, low, high = items[0].expression.finditer, items[2].min, items[2].max

    def grams(text: str) -> list[str]:
        out: list[str] = []
        for match in finditer(text):
            word = match.group(0).lower()
            if len(word) >= low:
                out += [word[:size] for size in range(low, min(high, len(word)) + 1)]
        return out

    return grams


def write_pool(pool: TermPool, fieldwriter: Any, schema: Any, lengths: Any,
               collector: Collector | None, lean: frozenset[str] = frozenset()) -> None:
    """Write every term's postings of `pool` through a W3 field writer, as its `add_postings`
    would (the same block statistics, term infos and bytes); the terms of `lean` fields get
    their term info (the same statistics) but no postings."""
    from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
    from whoosh.system import pack_ushort
    from whoosh.util.numeric import length_to_byte

    postfile, tindex = fieldwriter._postfile, fieldwriter._tindex
    blocklimit, level = fieldwriter._codec._blocklimit, fieldwriter._codec._compression
    dumps, compress = pickle.dumps, zlib.compress
    current = None
    no_postings = None  # where lean terms point
    for fieldname, text, (docnums, weights, values) in pool.terms():
        if collector is not None:
            collector.add_list(fieldname, text, docnums, weights)
        if fieldname in lean and fieldname in SIDECAR_ONLY:
            continue  # in the postings file only
        if fieldname != current:
            if current is not None:
                fieldwriter.finish_field()
            current, fieldobj = fieldname, schema[fieldname]
            fieldwriter.start_field(fieldname, fieldobj)
            prefix = pack_ushort(fieldwriter._fieldid)
            fixed = fieldobj.format.fixed_value_size()
            length_of = _FieldLengths(lengths, fieldname)
        ints = (fieldname, text) in pool.int_weights
        if fieldname in lean:
            if no_postings is None:
                no_postings = postfile.tell()
                postfile.write(NO_POSTINGS)
            tindex.add(prefix + text, _lean_info(docnums, weights, ints, length_of, no_postings))
            continue
        info = W3TermInfo()  # what its add_block would gather, block by block
        info._minid = docnums[0]
        info._df = count = len(docnums)
        start = postfile.tell()
        postfile.write(WHOOSH3_HEADER_MAGIC)
        for first in range(0, count, blocklimit):
            last = min(first + blocklimit, count)
            ids, ws = docnums[first:last], weights[first:last]
            minlength, maxlength = length_of.range(ids)
            top = max(ws)
            maxweight = (int(top) if ints else top) if top > 0 else 0  # the writer starts at 0
            data = (_deltas(ids), _mini_weights(ws), _mini_values(values[first:last], fixed))
            databytes = compress(dumps(data, 2), level)
            infobytes = dumps((len(ids), ids[-1], maxweight, level, length_to_byte(minlength),
                               length_to_byte(maxlength)), 2)
            size = len(infobytes) + len(databytes)
            postfile.write_int(-size if last == count else size)
            postfile.write(infobytes)
            postfile.write(databytes)
            info._weight += sum(ws)
            if info._minlength is None:
                info._minlength = minlength
            elif minlength is not None:
                info._minlength = min(info._minlength, minlength)
            info._maxlength = max(info._maxlength, maxlength)
            info._maxweight = max(info._maxweight, maxweight)
        info._maxid = docnums[-1]
        info.set_extent(start, postfile.tell() - start)
        tindex.add(prefix + text, info.to_bytes())
    if current is not None:
        fieldwriter.finish_field()


def _lean_info(docnums: array, weights: array, ints: bool, length_of: _FieldLengths,
               offset: int) -> bytes:
    """A term info with the statistics Whoosh's writer would give it, pointing at `offset`
    (NO_POSTINGS) instead of postings."""
    from whoosh.codec.whoosh3 import W3TermInfo

    info = W3TermInfo()
    info._df = len(docnums)
    info._weight = sum(weights)
    info._minid, info._maxid = docnums[0], docnums[-1]
    info._minlength, info._maxlength = length_of.range(docnums)
    top = max(weights)
    info._maxweight = (int(top) if ints else top) if top > 0 else 0
    info.set_extent(offset, len(NO_POSTINGS))
    return info.to_bytes()


_SMALL = 24  # below this many postings, plain Python beats numpy's per-call cost


class _FieldLengths:
    """The field lengths of documents, as the writer looks them up (None or 0: not counted)."""

    def __init__(self, lengths: Any, fieldname: str):
        self._lengths, self._fieldname = lengths, fieldname
        self._table = getattr(lengths, "table", None)
        if self._table is not None:
            self._raw = lengths.field_bytes(fieldname)
            self._codes = np.frombuffer(self._raw, dtype=np.uint8)
            self._known = np.asarray([0, *self._table[1:]], dtype=np.int64)

    def range(self, ids: array) -> tuple[int | None, int]:
        """(shortest, longest) counted length among the documents `ids`: (None, 0) for none."""
        if self._lengths is None:
            return None, 0
        if self._table is None:  # another per-document reader: one call a document
            found = [self._lengths.doc_field_length(d, self._fieldname) for d in ids]
        elif len(ids) < _SMALL:
            raw, table, size = self._raw, self._table, len(self._raw)
            found = [table[raw[d]] if d < size else None for d in ids]
        else:
            docs = np.frombuffer(ids, dtype=np.int32)
            docs = docs[docs < len(self._codes)]
            known = self._known[self._codes[docs]]
            known = known[known > 0]
            return (int(known.min()), int(known.max())) if len(known) else (None, 0)
        counted = [n for n in found if n]
        return (min(counted), max(counted)) if counted else (None, 0)


def _deltas(ids: array) -> tuple[int, ...]:
    """Whoosh's minified ids: the first, then the gaps."""
    if len(ids) < _SMALL:
        return tuple(b - a for a, b in zip((0, *ids), ids, strict=False))
    return tuple(np.diff(np.frombuffer(ids, dtype=np.int32), prepend=0).tolist())


def _mini_weights(weights: array) -> Any:
    first = weights[0]
    if weights.count(first) == len(weights):
        return None if first == 1.0 else first
    return tuple(weights)


def _mini_values(values: Any, fixed: int | None) -> Any:
    if fixed is None or fixed < 0:
        return tuple(values)
    if fixed == 0:
        return None
    if type(values) is array:  # counts, as 4-byte big-endian unsigned ints (whoosh.system.pack_uint)
        if not _BIG_ENDIAN:
            values = array("I", values)
            values.byteswap()
        return values.tobytes()
    return b"".join(values)


def finish_segment(writer: Any) -> Any:
    """A writer's documents as a finished segment that no table of contents lists yet (a build
    worker's; `commit_segments` lists them all). Its temporary files share a folder: the parent
    removes it."""
    return writer._finalize_segment()


def commit_segments(ix: Any, segments: list[Any]) -> None:
    """Commit one table of contents listing `segments` (as Whoosh's multi-segment writer does),
    holding the index's write lock."""
    import shutil

    from whoosh.index import TOC

    TOC(ix.schema, segments, ix.latest_generation() + 1).write(ix.storage, ix.indexname)
    shutil.rmtree(Path(ix.storage.folder) / f"{ix.indexname}.tmp", ignore_errors=True)


def segments(ix: Any) -> list[Any]:
    """The segments the index's table of contents lists (Whoosh has no public accessor; a Whoosh
    without it gives none, and then nothing is merged by tier)."""
    listed = getattr(ix, "_segments", None)
    return list(listed()) if listed else []


def segment_ids(ix: Any) -> set[str]:
    """The ids of the segments the index's table of contents lists."""
    return {s.segment_id() for s in segments(ix)}


# -- reading ---------------------------------------------------------------------------------------
def segment_id(reader: Any) -> str | None:
    """The segment a leaf reader reads (None: not a segment's reader)."""
    return getattr(reader, "_segid", None)


def _perdoc_length_bytes(perdoc: Any, fieldname: str) -> bytes:
    """Each document's length in `fieldname` as Whoosh's one-byte code, from a per-document reader."""
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

    col = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) if perdoc is not None else None
    return bytes(col._dbfile.get(col._basepos, col._count)) if col is not None and col._count else b""


def length_bytes(reader: Any, fieldname: str) -> bytes:
    """A leaf's field lengths, one byte code a document."""
    return _perdoc_length_bytes(getattr(reader, "_perdoc", None), fieldname)


def column_bytes(reader: Any, fieldname: str) -> bytes:
    """A leaf's fixed-width column (a sortable number) in one read, as stored (big-endian)."""
    col = reader.column_reader(fieldname, translate=False)
    return bytes(col._dbfile.get(col._basepos, col._count * col._fixedlen)) if col._count else b""


def id_column(reader: Any) -> Callable[[int], str] | None:
    """A leaf's docnum -> paper id, from its `id` column read in one piece (Whoosh reads each
    value with a seek and a read: 18 µs, and a phrase may look up 1,500 ids)."""
    if not reader.has_column("id"):
        return None
    column = reader.column_reader("id", translate=False)
    offsets, lengths = getattr(column, "_offsets", None), getattr(column, "_lengths", None)
    if offsets is None or lengths is None or not len(lengths):
        return lambda docnum: column[docnum].decode("utf-8")
    size = max(offsets[-1] + lengths[-1], 0)
    blob = bytes(column._dbfile.get(column._basepos, size)) if size else b""
    return lambda docnum: blob[offsets[docnum]:offsets[docnum] + lengths[docnum]].decode("utf-8")


def id_array(reader: Any) -> Any:
    """A leaf's paper ids in docnum order as one fixed-width bytes array (`idlist.fixed_width`),
    from its `id` column read in one piece; None without a column of that layout."""
    import numpy as np

    from paperdesk.core.idlist import fixed_width

    if not reader.has_column("id"):
        return None
    column = reader.column_reader("id", translate=False)
    offsets, lengths = getattr(column, "_offsets", None), getattr(column, "_lengths", None)
    if offsets is None or lengths is None:
        return None
    if not len(lengths):
        return np.zeros(0, dtype="S1")
    size = max(offsets[-1] + lengths[-1], 0)
    raw = np.frombuffer(bytes(column._dbfile.get(column._basepos, size)) if size else b"", dtype=np.uint8)
    return fixed_width(raw, np.asarray(offsets, dtype=np.int64), np.asarray(lengths, dtype=np.int64))


_DOCNUM_MAPS: dict[str, dict[str, int]] = {}  # by segment id: segments never change


def docnum_map(reader: Any) -> dict[str, int]:
    """A leaf's paper id -> local docnum (cached by segment: ~20 ms at 100k papers)."""
    segid = segment_id(reader)
    found = _DOCNUM_MAPS.get(segid) if segid else None
    if found is None:
        column = id_column(reader)
        n = reader.doc_count_all()
        found = {column(d): d for d in range(n)} if column is not None else \
            {fields["id"]: d for d, fields in reader.iter_docs()}
        if segid:
            if len(_DOCNUM_MAPS) > 16:
                _DOCNUM_MAPS.clear()
            _DOCNUM_MAPS[segid] = found
    return found
