"""A Whoosh segment writer that reads field lengths from memory while writing postings.

Whoosh's writer looks up the document's field length for every posting it writes (for the block
statistics BM25 uses), through a column reader on the file it just wrote: ~4 us a posting, a sixth
of a full build. Here each field's length bytes are read once into memory. The long posting
lists are also written as arrays beside the segment (sidecar.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paperdesk.core.search.sidecar import Collector, path_for


class _Lengths:
    """`doc_field_length` of a per-document reader, from bytes loaded once per field."""

    def __init__(self, reader: Any):
        from whoosh.util.numeric import byte_to_length

        self._reader = reader
        self._bytes: dict[str, bytes] = {}
        # Code 0 means no length: None, as W3PerDocReader answers.
        self._table: list[int | None] = [None] + [byte_to_length(b) for b in range(1, 256)]

    def _load(self, fieldname: str) -> bytes:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

        col = self._reader._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        raw = bytes(col._dbfile.get(col._basepos, col._count)) if col is not None and col._count else b""
        self._bytes[fieldname] = raw
        return raw

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        raw = self._bytes.get(fieldname)
        if raw is None:
            raw = self._load(fieldname)
        return self._table[raw[docnum]] if docnum < len(raw) else None

    def close(self) -> None:
        self._reader.close()


def segment_writer(ix: Any, **kwargs: Any) -> Any:
    """`ix.writer(**kwargs)` for one process, with in-memory field lengths at flush time."""
    from whoosh.codec.whoosh3 import W3PerDocReader
    from whoosh.writing import SegmentWriter

    class FastLengthsWriter(SegmentWriter):
        def _flush_segment(self) -> None:
            self.perdocwriter.close()
            pdr = self.per_document_reader() if self.codec.length_stats else None
            lengths = _Lengths(pdr) if isinstance(pdr, W3PerDocReader) else pdr
            folder = getattr(self.storage, "folder", None)  # a folder on disk (not RAM storage)
            postings = Collector(self.pool.iter_postings()) if folder else self.pool.iter_postings()
            self.fieldwriter.add_postings(self.schema, lengths, postings)
            self.fieldwriter.close()
            if lengths:
                lengths.close()
            if isinstance(postings, Collector):
                postings.write(path_for(Path(folder), self.newsegment.segment_id()))

    return FastLengthsWriter(ix, **kwargs)
