"""The order of the words of each document's title, abstract and PDF text, kept beside its segment
(`words_<segment>.npw`): the positions our index uses for phrases.

Abstracts and PDF texts are indexed without Whoosh's positions (a word query reads their postings
3x faster). Our segment writer records each document's words as the analyzer reads them (stop
words dropped, as the index numbers positions) one after the other in a segment-wide sequence,
and keeps where each word occurs in it (its places); a merge carries the merged segments' words
over (`Recorder.add_segment`), so every segment has its file (the index checks at open, and
rebuilds without one). A phrase starts from its rarest word's places and looks each other word
up in that word's places (a binary search each): two common words ("language models") touch
a few pages. The sequence itself is not stored (it would cost 2-4 more bytes a word): a merge
makes it again from the places.

Layout: MAGIC, an 8-byte little-endian header length, the pickled header {"fields": {name:
{"words": {word: id}, "docs": n, "tokens": m, "positions": "<i4" or "<i8"}}}, then per field, in
header order, n + 1 int64 offsets (document d's words are places offsets[d] to offsets[d + 1] of
the sequence), len(words) + 1 int64 places offsets and m places (word w is at
places[starts[w]:starts[w + 1]], ascending).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from paperdesk.core.search import sidecar
from paperdesk.core.search.sidecar import open_cached, read_header, write_file

FIELDS = ("abstract", "title", "fulltext")  # fulltext: PDFs' text, also without positions
PREFIX, EXTENSION = "words_", ".npw"  # not the segment's own prefix (Whoosh would pack it)
MAGIC = b"PDNPW2\n"
NARROW_WORDS = 1 << 16  # a vocabulary this small is stored as 2-byte ids


class Field(NamedTuple):
    """One field's words in a segment: ids by word, where each document's words start in the
    sequence, where each word's places start and the places."""

    ids: dict[str, int]
    starts: np.ndarray
    place_starts: np.ndarray
    places: np.ndarray

    def sequence(self) -> np.ndarray:
        """The word ids in order (int32), made from the places."""
        sequence = np.zeros(int(self.starts[-1]), dtype=np.int32)
        counts = np.diff(self.place_starts)
        sequence[self.places] = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        return sequence


class Recorder:
    """Collects the word sequences of one segment's documents as they are added."""

    def __init__(self) -> None:
        # Per field: word -> id, the ids of every document in turn, and where each one starts.
        self.fields = {name: ({}, array("i"), array("i"), array("q")) for name in FIELDS}
        self.complete = True  # False once documents arrive without their words (a merge)

    def add(self, fieldname: str, docnum: int, words: Sequence[str]) -> None:
        ids, sequence, docs, starts = self.fields[fieldname]
        docs.append(docnum)
        starts.append(len(sequence))
        sequence.extend([ids.setdefault(word, len(ids)) for word in words])

    def add_segment(self, order: WordOrder, new_docnums: np.ndarray) -> None:
        """The words of a segment being merged in: its document d becomes `new_docnums[d]`
        (ascending, after the documents added so far; -1: deleted, left out)."""
        kept = np.flatnonzero(new_docnums >= 0)
        for name, field in order.fields.items():
            ids, sequence, docs, starts = self.fields[name]
            by_id = sorted(field.ids, key=field.ids.__getitem__)
            remap = np.asarray([ids.setdefault(word, len(ids)) for word in by_id], dtype=np.int32)
            begin = field.starts[kept]
            lengths = field.starts[kept + 1] - begin
            present = lengths > 0
            begin, lengths = begin[present], lengths[present]
            docs.extend(new_docnums[kept[present]].astype(np.int32).tolist())
            starts.extend((len(sequence) + np.cumsum(lengths) - lengths).tolist())
            # Every kept word, in order: each document's run of the old sequence.
            at = np.repeat(begin - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()))
            sequence.frombytes(remap[field.sequence()[at].astype(np.int64)].astype(np.int32).tobytes())

    def write(self, path: Path, doc_count: int) -> None:
        """Write the file (also for a segment without words: every segment has one); nothing
        when incomplete (a merged segment had no file)."""
        if not self.complete:
            return
        header: dict = {"fields": {}}
        parts: list[bytes] = []
        for name, (ids, sequence, docs, starts) in self.fields.items():
            counts = np.zeros(doc_count, dtype=np.int64)
            if len(docs):
                begin = np.frombuffer(starts, dtype=np.int64)
                end = np.append(begin[1:], len(sequence))
                counts[np.frombuffer(docs, dtype=np.int32)] = end - begin
            offsets = np.zeros(doc_count + 1, dtype=np.int64)
            np.cumsum(counts, out=offsets[1:])
            # Two-byte ids while the vocabulary allows: a radix sort below.
            words = np.frombuffer(sequence, dtype=np.int32)
            words = words.astype("<u2") if len(ids) <= NARROW_WORDS else words
            positions = "<i4" if len(sequence) < 1 << 31 else "<i8"
            info = {"words": ids, "docs": doc_count, "tokens": len(sequence), "positions": positions}
            # Stable: each word's places stay ascending.
            places = np.argsort(words, kind="stable").astype(positions)
            place_starts = np.zeros(len(ids) + 1, dtype="<i8")
            np.cumsum(np.bincount(words, minlength=len(ids)), out=place_starts[1:])
            parts += [offsets.astype("<i8").tobytes(), place_starts.tobytes(), places.tobytes()]
            header["fields"][name] = info
        write_file(path, MAGIC, header, parts)


class WordOrder:
    """A segment's word sequences, memory-mapped."""

    def __init__(self, path: Path):
        header, offset = read_header(path, MAGIC)
        self.fields: dict[str, Field] = {}
        size = path.stat().st_size

        def array_at(dtype: np.dtype, count: int) -> np.ndarray:
            nonlocal offset
            found = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=(count,)) \
                if count else np.zeros(0, dtype=dtype)
            offset += dtype.itemsize * count
            # A plain array over the map: a memmap's slices and lookups pay for its Python subclass.
            return np.asarray(found)

        for name, info in header["fields"].items():
            docs, tokens = info["docs"], info["tokens"]
            starts = array_at(np.dtype("<i8"), docs + 1)
            place_starts = array_at(np.dtype("<i8"), len(info["words"]) + 1)
            places = array_at(np.dtype(info["positions"]), tokens)
            self.fields[name] = Field(info["words"], starts, place_starts, places)
        if offset != size:
            raise ValueError(f"word order file of the wrong size: {path}")

    def documents_with(self, fieldname: str, words: Sequence[str],
                       among: np.ndarray | None = None) -> np.ndarray | None:
        """The segment's documents (local docnums, ascending) whose `fieldname` has `words` one
        after the other, looking only `among` those documents (ascending) when given; None when
        this file does not know the field."""
        found = self.fields.get(fieldname)
        if found is None:
            return None
        ids, starts = found.ids, found.starts
        known = [ids.get(word) for word in words]
        if not known or None in known or (among is not None and not len(among)):
            return np.zeros(0, dtype=np.int64)
        at = _run_starts(found, known, among)
        docs = np.searchsorted(starts, at, side="right") - 1
        return np.unique(docs[at + len(known) <= starts[docs + 1]])


def _run_starts(field: Field, wanted: list[int], among: np.ndarray | None) -> np.ndarray:
    """Where the words `wanted` occur one after the other in the field's sequence (ascending),
    within the documents `among` if given: at the places of the rarest word (in those documents
    only: a slice per document, found by binary search), each other word looked up in its own
    places (rarest first, so the candidates shrink early)."""
    place_starts, places, starts = field.place_starts, field.places, field.starts
    counts = [int(place_starts[w + 1] - place_starts[w]) for w in wanted]
    steps = sorted(range(len(wanted)), key=counts.__getitem__)
    rarest = steps[0]
    w = wanted[rarest]
    theirs = places[place_starts[w]:place_starts[w + 1]]
    if among is None:
        at = theirs.astype(np.int64) - rarest
        at = at[(at >= 0) & (at <= int(starts[-1]) - len(wanted))]
    else:  # the run's start at a place where the whole run fits in its document
        among = among[among < len(starts) - 1]
        # Keys of the places' own type: numpy would copy the places to the keys' wider type.
        lo = np.searchsorted(theirs, (starts[among] + rarest).astype(theirs.dtype))
        hi = np.searchsorted(theirs, (starts[among + 1] - len(wanted) + rarest).astype(theirs.dtype),
                             side="right")
        lengths = np.maximum(hi - lo, 0)
        ends = np.cumsum(lengths)
        picked = np.repeat(lo - (ends - lengths), lengths) + np.arange(int(ends[-1]) if len(ends) else 0)
        at = theirs[picked].astype(np.int64) - rarest
    for step in steps[1:]:
        if not len(at):
            break
        w = wanted[step]
        theirs = places[place_starts[w]:place_starts[w + 1]]
        if not len(theirs):
            return at[:0]
        wanted_at = at + step
        found = np.minimum(np.searchsorted(theirs, wanted_at.astype(theirs.dtype)), len(theirs) - 1)
        at = at[theirs[found] == wanted_at]
    return at


def path_for(folder: Path, segment_id: str) -> Path:
    return Path(folder) / f"{PREFIX}{segment_id}{EXTENSION}"


def word_order_for(folder: Path, segment_id: str) -> WordOrder | None:
    """The word order file of a segment, or None."""
    return open_cached(path_for(folder, segment_id), WordOrder)


def prune(folder: Path, segment_ids: set[str]) -> None:
    sidecar.prune(folder, segment_ids, PREFIX, EXTENSION)
