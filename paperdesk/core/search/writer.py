"""Whoosh's segment writer, made faster where an index build spends its time.

- Postings are pooled by term and written a block at a time (term_pool.py), instead of sorted
  tuples written one by one: about half of a build.
- Whoosh's writer looks up the document's field length for every posting it writes (for the
  block statistics BM25 uses), through a column reader on the file it just wrote: ~4 us a
  posting. Here each field's length bytes are read once into memory.
- The long posting lists are also written as arrays beside the segment (sidecar.py), and the
  words of titles and abstracts in order (word_order.py), for phrases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paperdesk.core.search import word_order
from paperdesk.core.search.sidecar import Collector, path_for
from paperdesk.core.search.term_pool import TermPool

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
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

        col = self._reader._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        raw = bytes(col._dbfile.get(col._basepos, col._count)) if col is not None and col._count else b""
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
            self._counted = {name for name in self._analyzed if type(self.schema[name].format) is Frequency}
            self.word_order = word_order.Recorder()  # titles' and abstracts' words, in order

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
                    if field.indexed:
                        boost = self._field_boost(fields, fieldname, docboost)
                        words = field.analyzer.words(value) \
                            if fieldname in self._analyzed and isinstance(value, str) else None
                        if words is not None and fieldname in self._counted:
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
            self.word_order.complete = False  # a merged segment's words are not recorded
            super().add_postings_to_pool(reader, startdoc, docmap)

        def _flush_segment(self) -> None:
            self.perdocwriter.close()
            pdr = self.per_document_reader() if self.codec.length_stats else None
            lengths = _Lengths(pdr) if isinstance(pdr, W3PerDocReader) else pdr
            folder = getattr(self.storage, "folder", None)  # a folder on disk (not RAM storage)
            if isinstance(self.pool, TermPool):
                collector = Collector() if folder else None
                self.pool.write(self.fieldwriter, self.schema, lengths, collector)
            else:
                postings = self.pool.iter_postings()
                collector = Collector(postings) if folder else None
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
