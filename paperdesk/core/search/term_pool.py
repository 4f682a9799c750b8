"""A segment's postings grouped by term as they arrive, written a block at a time.

Whoosh's posting pool keeps every posting as a tuple, sorts them all at flush, and its field
writer takes them back one by one (a dozen Python calls each, half of an index build). Here
each term keeps its postings in arrays, appended in document order (a segment numbers its
documents as they come), so a flush only sorts the terms, and writes each block of 128
postings from array slices (`whoosh_internals.write_pool`). The bytes written are Whoosh's own
(W3 codec): the tests compare the files with those of Whoosh's writer.

The arrays and terms cost ~30 bytes a posting (25,000 papers: ~180 MB). Past a limit
(whoosh_internals.POOL_LIMIT) the pooled postings move to a sorted run in a temporary file, as Whoosh's
pool spills; the runs are merged term by term when the segment is written, so a build of any
size stays one segment in bounded memory (a search pays for every extra segment).
"""

from __future__ import annotations

import heapq
import itertools
import pickle
import struct
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

Posting = tuple[str, bytes, int, float, Any]  # (field, term bytes, docnum, weight, value bytes)
Lists = tuple[array, array, Any]  # a term's docnums, weights and values (counts or bytes)
_UINT = struct.Struct("!I")  # whoosh.system.pack_uint


class TermPool:
    """The postings of one segment, by field and term. Frequency values (a 4-byte count) are
    kept as numbers; other values as the bytes given."""

    def __init__(self, schema: Any, limit: int | None = None, spill_dir: str | None = None):
        from whoosh.fields import SpellField
        from whoosh.formats import Frequency

        # A spelling field's "values" are whatever bytes the writer had at hand: kept as given.
        self._counts = {name: type(schema[name].format) is Frequency and
                        not isinstance(schema[name], SpellField) for name in schema.names()}
        self.fields: dict[str, dict[bytes, Lists]] = {}
        self.unsorted: set[tuple[str, bytes]] = set()  # terms given a docnum out of order
        # Terms given int weights (spelling words: 1): Whoosh's block info keeps the int.
        self.int_weights: set[tuple[str, bytes]] = set()
        self.size = 0  # postings held in memory
        self.limit = limit  # past this many, they move to a sorted run on disk
        self.spill_dir = spill_dir  # beside the index (as Whoosh's pool), not a RAM-backed /tmp
        self._runs: list[IO[bytes]] = []  # oldest first: their documents come first

    def add(self, item: Posting) -> None:
        fieldname, text, docnum, weight, value = item
        if docnum == -1:  # Whoosh's marker for a spelling-only word: its writer skips it too
            return
        terms = self._field(fieldname)
        lists = terms.get(text)
        if lists is None:
            counts = self._counts.get(fieldname, False)
            lists = terms[text] = (array("i"), array("f"), array("I") if counts else [])
        elif docnum <= lists[0][-1]:
            self.unsorted.add((fieldname, text))
        if type(weight) is int:
            self.int_weights.add((fieldname, text))
        lists[0].append(docnum)
        lists[1].append(weight)
        lists[2].append(int.from_bytes(value, "big") if type(lists[2]) is array else value)
        self._added(1)

    def add_list(self, fieldname: str, text: bytes, docnums: Any, weights: Any) -> None:
        """A lean field's postings of a term from a merged segment at once (docnums ascending;
        values are never written for it: counts, the weights, as boosts are 1)."""
        terms = self._field(fieldname)
        lists = terms.get(text)
        if lists is None:  # counts kept as numbers (as `add_words` keeps them)
            lists = terms[text] = (array("i"), array("f"), array("I"))
        elif int(docnums[0]) <= lists[0][-1]:
            self.unsorted.add((fieldname, text))
        lists[0].extend(int(d) for d in docnums)
        lists[1].extend(float(w) for w in weights)
        if type(lists[2]) is array:
            lists[2].extend(int(w) for w in weights)
        else:  # (values never written: a lean field)
            lists[2].extend([b""] * len(docnums))
        self._added(len(docnums))

    def add_terms(self, fieldname: str, docnum: int, items: Any, boost: float, scorable: bool,
                  vbytes: Any) -> tuple[int, Any]:
        """A document's (term bytes, frequency, weight, value) items of one field, as Whoosh's
        `add_document` adds each to its pool; returns the field's length and the last value
        (which that loop leaves behind for the spelling words that follow)."""
        terms = self._field(fieldname)
        counts = self._counts.get(fieldname, False)  # a Frequency value is its frequency, packed
        unsorted = self.unsorted
        length = added = 0
        for tbytes, freq, weight, vbytes in items:
            if scorable:
                length += freq
            lists = terms.get(tbytes)
            if lists is None:
                lists = terms[tbytes] = (array("i"), array("f"), array("I") if counts else [])
            elif docnum <= lists[0][-1]:
                unsorted.add((fieldname, tbytes))
            lists[0].append(docnum)
            lists[1].append(weight * boost)
            lists[2].append(freq if counts else vbytes)
            added += 1
        self._added(added)
        return length, vbytes

    def add_words(self, fieldname: str, docnum: int, words: list[str], field_boost: float,
                  boost: float, scorable: bool, vbytes: Any) -> tuple[int, Any]:
        """`add_terms` for a Frequency field, from its analyzed words: the items Whoosh's
        `Frequency.word_values` would make, without making them."""
        counts = Counter(words)
        if not counts:
            return 0, vbytes
        terms = self._field(fieldname)
        unsorted = self.unsorted
        for word, freq in counts.items():
            tbytes = word.encode("utf-8")
            lists = terms.get(tbytes)
            if lists is None:
                lists = terms[tbytes] = (array("i"), array("f"), array("I"))
            elif docnum <= lists[0][-1]:
                unsorted.add((fieldname, tbytes))
            lists[0].append(docnum)
            lists[1].append(float(freq) * field_boost * boost)
            lists[2].append(freq)
        self._added(len(counts))
        return (len(words) if scorable else 0), _UINT.pack(freq)

    def _field(self, fieldname: str) -> dict[bytes, Lists]:
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
        return terms

    def _added(self, count: int) -> None:
        self.size += count
        if self.limit is not None and self.size >= self.limit:
            self.spill()

    def _sorted_lists(self, fieldname: str, text: bytes) -> Lists:
        lists = self.fields[fieldname][text]
        return _sorted(*lists) if (fieldname, text) in self.unsorted else lists

    def _memory_terms(self) -> Iterator[tuple[tuple[str, bytes], Lists]]:
        for fieldname in sorted(self.fields):
            for text in sorted(self.fields[fieldname]):
                yield (fieldname, text), self._sorted_lists(fieldname, text)

    def spill(self) -> None:
        """Move the postings in memory to a sorted run in a temporary file, to bound memory.
        Runs are read back one term at a time, merged, when the segment is written."""
        run = tempfile.TemporaryFile(dir=self.spill_dir)  # noqa: SIM115 (open until cleanup; deleted on close)
        for item in self._memory_terms():
            pickle.dump(item, run, protocol=pickle.HIGHEST_PROTOCOL)
        self._runs.append(run)
        self.fields.clear()
        self.unsorted.clear()
        self.size = 0

    def terms(self) -> Iterator[tuple[str, bytes, Lists]]:
        """Every term's postings, sorted by field and term: the runs' and memory's, joined."""
        sources = [_read_run(run) for run in self._runs] + [self._memory_terms()]
        # Equal keys come out in source order (heapq.merge is stable): oldest documents first.
        merged = heapq.merge(*sources, key=lambda item: item[0]) if self._runs else sources[0]
        for (fieldname, text), group in itertools.groupby(merged, key=lambda item: item[0]):
            parts = [lists for _, lists in group]
            yield fieldname, text, parts[0] if len(parts) == 1 else _joined(parts)

    def cleanup(self) -> None:
        self.fields.clear()
        self.unsorted.clear()
        self.int_weights.clear()
        self.size = 0
        for run in self._runs:
            run.close()
        self._runs.clear()

def _read_run(run: IO[bytes]) -> Iterator[tuple[tuple[str, bytes], Lists]]:
    run.seek(0)
    while True:
        try:
            yield pickle.load(run)
        except EOFError:
            return


def _sorted(docnums: array, weights: array, values: Any) -> Lists:
    """As Whoosh's pool sorts postings: by document, then weight, then value."""
    order = sorted(range(len(docnums)), key=lambda i: (docnums[i], weights[i], values[i]))
    kind = type(values) if type(values) is list else lambda items: array("I", items)
    return (array("i", [docnums[i] for i in order]), array("f", [weights[i] for i in order]),
            kind([values[i] for i in order]))


def _joined(parts: list[Lists]) -> Lists:
    """One term's postings from several runs, oldest first (sorted again only where documents
    repeat across them: spelling words, all filed under document 0)."""
    first_docnums, first_weights, first_values = parts[0]
    docnums, weights = array("i", first_docnums), array("f", first_weights)
    values = array("I", first_values) if type(first_values) is array else list(first_values)
    ordered = True
    for more_docnums, more_weights, more_values in parts[1:]:
        ordered = ordered and more_docnums[0] > docnums[-1]
        docnums.extend(more_docnums)
        weights.extend(more_weights)
        values.extend(more_values)
    return (docnums, weights, values) if ordered else _sorted(docnums, weights, values)
