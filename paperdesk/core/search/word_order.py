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

A word's places are kept in two bytes each: the sequence is cut into blocks of 2^16 places
(`BLOCK_BITS`), and each word's places are runs, one per block it occurs in (the block's number
and where its run ends), each place its low 16 bits (at 1M papers 589 -> ~300 bytes a paper).
A look-up finds the run by its block, then the place in the run (binary search over the
candidates at once).

A field's vocabulary (word -> id) is kept as arrays in the file and read in place (INDEX_VERSION
16; before, a pickled dict in the header: at 1M papers ~0.5 s of unpickling and Python objects, the
GIL held, at a process's first phrase): the words' UTF-8 bytes joined in id order, where each ends,
and a process-independent hash of each word (CRC-32 of its bytes) sorted, with the word's id beside
it. A look-up finds the word's hash by binary search and compares its bytes (`Vocabulary`): opening
a file makes no object per word.

Layout: MAGIC, an 8-byte little-endian header length, the pickled header {"fields": {name:
{"docs": n, "tokens": m, "runs": r, "words": v, "word_bytes": b, "positions": "<i4" or "<i8",
"blocks": "<u2" or "<i4", "word_ends": "<i4" or "<i8", "block_bits": k}}} padded so that the parts
start at a multiple of 8 bytes, then per field, in header order, each part padded to 8 bytes: n + 1
offsets (document d's words are places offsets[d] to offsets[d + 1] of the sequence), v + 1 run
offsets (word w's runs are runs[run_starts[w]:run_starts[w + 1]]), r run blocks, r + 1 run ends
(run j is lows[run_ends[j]:run_ends[j + 1]]), all but the blocks of the "positions" type, m lows
("<u2", ascending within a run); then the vocabulary: v + 1 word ends (of "word_ends": word w is
bytes word_ends[w] to word_ends[w + 1] of the words' bytes), v hashes ("<u4", ascending), v ids
("<i4": the word of each hash, ascending within one hash), b bytes of the words (UTF-8, lone
surrogates passed through).
"""

from __future__ import annotations

import mmap
import zlib
from array import array
from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import numpy as np

from paperdesk.core.search import sidecar
from paperdesk.core.search.sidecar import open_cached, read_header, write_file

FIELDS = ("abstract", "title", "fulltext")  # fulltext: PDFs' text, also without positions
PREFIX, EXTENSION = "words_", ".npw"  # not the segment's own prefix (Whoosh would pack it)
MAGIC = b"PDNPW4\n"
NARROW_WORDS = 1 << 16  # a vocabulary this small is sorted as 2-byte ids
BLOCK_BITS = 16  # a place is its block's number and its low 16 bits (two bytes); tests use fewer
# A look-up makes a word's places whole when they are at most this many per key plus this many
# (cheaper than the run-wise binary search); tests set both to 0 to take the binary search.
MATERIALISE_PER_KEY, MATERIALISE_ALWAYS = 32, 65_536
# Keys are merged with a word's places unless it has over MERGE_KEYS places a key (then a binary
# search each); a phrase looks only within its candidate documents when the rarest word has over
# RESTRICT_KEYS places a candidate (else every place of it is a start). Tests vary both.
MERGE_KEYS, RESTRICT_KEYS = 16, 32


def word_hash(raw: bytes) -> int:
    """A word's hash as the file keeps it: the CRC-32 of its UTF-8 bytes, the same in every
    process (Python's str hash is salted per process). Words of one hash are told apart by their
    bytes (at 500k words a few dozen pairs share one)."""
    return zlib.crc32(raw)


def _encoded(word: str) -> bytes:
    return word.encode("utf-8", "surrogatepass")  # (a lone surrogate from JSON text is a word too)


class Vocabulary(Mapping[str, int]):
    """A field's word -> id, read in place from the file's map (see the module's docstring): no
    object per word, so opening costs the same at any size. A look-up is a binary search of the
    word's hash and a comparison of its bytes."""

    __slots__ = ("_blob", "_ends", "_hashes", "_ids")

    def __init__(self, blob: np.ndarray, ends: np.ndarray, hashes: np.ndarray, ids: np.ndarray):
        self._blob = blob  # uint8: the words' bytes in id order
        self._ends = ends  # len + 1: word k is blob[ends[k]:ends[k + 1]]
        self._hashes = hashes  # ascending
        self._ids = ids  # the word of each hash

    def get(self, word: str, default: int | None = None) -> int | None:  # type: ignore[override]
        raw = _encoded(word)
        key = self._hashes.dtype.type(word_hash(raw))  # (of the array's type: never copied)
        at = int(self._hashes.searchsorted(key))
        while at < len(self._hashes) and self._hashes[at] == key:
            found = int(self._ids[at])
            if self._blob[int(self._ends[found]):int(self._ends[found + 1])].tobytes() == raw:
                return found
            at += 1
        return default

    def __getitem__(self, word: str) -> int:
        found = self.get(word)
        if found is None:
            raise KeyError(word)
        return found

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.get(word) is not None

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        """The words in id order."""
        return iter(self.by_id())

    def by_id(self) -> list[str]:
        """Every word, word k at index k (for a merge)."""
        ends = self._ends.tolist()
        raw = self._blob.tobytes()
        text = raw.decode("utf-8", "surrogatepass")
        if len(text) == len(raw):  # ASCII: a character is a byte
            return [text[a:b] for a, b in pairwise(ends)]
        return [raw[a:b].decode("utf-8", "surrogatepass") for a, b in pairwise(ends)]


def _vocabulary_parts(ids: dict[str, int]) -> tuple[dict, list[bytes]]:
    """A field's header entries and parts for its vocabulary (`ids` in id order, as the
    recorder's first-seen ids are)."""
    encoded = [_encoded(word) for word in ids]
    ends = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=ends[1:])
    hashes = np.fromiter(map(word_hash, encoded), dtype=np.uint32, count=len(encoded))
    order = np.argsort(hashes, kind="stable")  # (one hash's ids ascending)
    word_ends = "<i4" if ends[-1] < 1 << 31 else "<i8"
    info = {"words": len(encoded), "word_bytes": int(ends[-1]), "word_ends": word_ends}
    return info, [_padded(ends.astype(word_ends)), _padded(hashes[order].astype("<u4")),
                  _padded(order.astype("<i4")), _padded(np.frombuffer(b"".join(encoded), dtype=np.uint8))]


class Field(NamedTuple):
    """One field's words in a segment: ids by word, where each document's words start in the
    sequence, and each word's places as runs (see the module's docstring)."""

    ids: Vocabulary
    starts: np.ndarray
    run_starts: np.ndarray
    run_blocks: np.ndarray
    run_ends: np.ndarray
    lows: np.ndarray
    block_bits: int

    def count(self, word: int) -> int:
        """How many places the word has."""
        return int(self.run_ends[self.run_starts[word + 1]] - self.run_ends[self.run_starts[word]])

    def places(self, word: int, dtype: type = np.int64) -> np.ndarray:
        """The word's places, ascending (int64, or `dtype` if every place fits it)."""
        first, last = int(self.run_starts[word]), int(self.run_starts[word + 1])
        return self._places(first, last, dtype)

    def place_type(self) -> type:
        """The narrowest type that holds every place (sorting and merging int32 is faster)."""
        return np.int32 if len(self.lows) < 1 << 31 else np.int64

    def _places(self, first: int, last: int, dtype: type = np.int64) -> np.ndarray:
        """The places of runs first..last - 1 (int64 or `dtype`)."""
        ends = self.run_ends[first:last + 1].astype(np.int64)
        highs = np.repeat(self.run_blocks[first:last].astype(dtype) << self.block_bits, np.diff(ends))
        return highs | self.lows[ends[0]:ends[-1]]

    def lower_bound(self, word: int, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each place of `at` (int64), where the word's first place >= it is in `lows` and
        whether that place is it: its run found by the block, then the low bits in the run by
        binary search, every one at once (runs are short: at most 2^16 places)."""
        first, last = int(self.run_starts[word]), int(self.run_starts[word + 1])
        blocks = self.run_blocks[first:last]
        if not len(at) or not len(blocks):
            return np.full(len(at), self.run_ends[first], dtype=np.int64), np.zeros(len(at), dtype=bool)
        at = np.maximum(at, 0)  # (a place before the first: the first place is >= it)
        base = int(self.run_ends[first])
        count = int(self.run_ends[last]) - base
        if count <= MATERIALISE_PER_KEY * len(at) + MATERIALISE_ALWAYS:
            # Few places for these keys: all of them made at once, then one searchsorted (the
            # binary search below costs ~100 numpy calls, however few the keys).
            places = self._places(first, last)
            index = np.searchsorted(places, at)
            exact = index < count
            exact[exact] = places[index[exact]] == at[exact]
            return index + base, exact
        # Keys of the arrays' own type: numpy copies a searched array of another type first.
        block = (at >> self.block_bits).astype(blocks.dtype)
        run = np.searchsorted(blocks, block)
        inside = blocks[np.minimum(run, len(blocks) - 1)] == block
        inside &= run < len(blocks)
        lo = self.run_ends[first + run].astype(np.int64)  # a block without a run: its places < at
        end = np.where(inside, self.run_ends[first + run + inside], lo).astype(np.int64)
        hi = end.copy()
        low = (at & ((1 << self.block_bits) - 1)).astype(self.lows.dtype)
        while True:  # the first place of the run >= its low bits
            open_ = np.flatnonzero(lo < hi)
            if not len(open_):
                break
            mid = (lo[open_] + hi[open_]) >> 1
            right = self.lows[mid] < low[open_]
            lo[open_[right]] = mid[right] + 1
            hi[open_[~right]] = mid[~right]
        exact = lo < end
        exact[exact] = self.lows[lo[exact]] == low[exact]
        return lo, exact

    def contains(self, word: int, at: np.ndarray) -> np.ndarray:
        """Which of the places `at` are the word's."""
        return self.lower_bound(word, at)[1]

    def having(self, word: int, at: np.ndarray) -> np.ndarray:
        """The places of `at` (ascending, distinct) that are the word's. Many keys: the word's
        places made whole and merged with them (one stable sort of two sorted runs is a single
        merge pass: at 1M papers a common word's 2.5M places meet 700k keys in ~10 ms, where a
        binary search per key took ~25-35); few: a binary search each (`lower_bound`)."""
        if len(at) * MERGE_KEYS < self.count(word):
            return at[self.lower_bound(word, at.astype(np.int64))[1]]
        both = np.concatenate((at, self.places(word, at.dtype.type)))
        both.sort(kind="stable")
        return both[1:][both[1:] == both[:-1]]

    def places_at(self, word: int, index: np.ndarray) -> np.ndarray:
        """The word's places at these indexes of `lows` (int64)."""
        first, last = int(self.run_starts[word]), int(self.run_starts[word + 1])
        ends = self.run_ends[first:last + 1]
        run = np.searchsorted(ends, index.astype(ends.dtype), side="right") - 1
        return (self.run_blocks[first + run].astype(np.int64) << self.block_bits) | self.lows[index]

    def sequence(self) -> np.ndarray:
        """The word ids in order (int32), made from the places."""
        sequence = np.zeros(int(self.starts[-1]), dtype=np.int32)
        counts = np.diff(self.run_ends[self.run_starts.astype(np.int64)].astype(np.int64))
        places = self._places(0, len(self.run_blocks))
        sequence[places] = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
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
            by_id = field.ids.by_id()
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
            # Stable: each word's places stay ascending.
            places = np.argsort(words, kind="stable").astype(positions)
            place_starts = np.zeros(len(ids) + 1, dtype=np.int64)
            np.cumsum(np.bincount(words, minlength=len(ids)), out=place_starts[1:])
            blocks = places >> BLOCK_BITS
            # A run starts at each word's first place and wherever the block changes.
            new_run = np.zeros(len(places), dtype=bool)
            new_run[place_starts[:-1][place_starts[:-1] < len(places)]] = True
            new_run[1:] |= blocks[1:] != blocks[:-1]
            run_first = np.flatnonzero(new_run)
            block_type = "<u2" if (len(sequence) - 1) >> BLOCK_BITS < 1 << 16 else "<i4"
            run_starts = np.searchsorted(run_first, place_starts)
            info, vocabulary = _vocabulary_parts(ids)
            info |= {"docs": doc_count, "tokens": len(sequence), "runs": len(run_first),
                     "positions": positions, "blocks": block_type, "block_bits": BLOCK_BITS}
            parts += [_padded(offsets.astype(positions)), _padded(run_starts.astype(positions)),
                      _padded(blocks[run_first].astype(block_type)),
                      _padded(np.append(run_first, len(places)).astype(positions)),
                      _padded((places & ((1 << BLOCK_BITS) - 1)).astype("<u2")), *vocabulary]
            del places, blocks, new_run
            header["fields"][name] = info
        write_file(path, MAGIC, header, parts)


def _padded(values: np.ndarray) -> bytes:
    """The array's bytes, zeros appended to a multiple of 8 (the next part stays aligned: numpy
    copies a misaligned array before searching it)."""
    raw = values.tobytes()
    return raw + bytes(-len(raw) % 8)


class WordOrder:
    """A segment's word sequences and vocabularies, read in place from one map of the file:
    opening reads the header (a few numbers a field) and makes views, a few ms at any size."""

    def __init__(self, path: Path):
        header, offset = read_header(path, MAGIC)
        with open(path, "rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)  # (stays open: the views hold it)
        raw = np.frombuffer(mapped, dtype=np.uint8)
        self.fields: dict[str, Field] = {}

        def part(dtype: str, count: int) -> np.ndarray:
            nonlocal offset
            size = np.dtype(dtype).itemsize * count
            if offset + size > len(raw):
                raise ValueError(f"word order file of the wrong size: {path}")
            # A plain array over the map, aligned (each part starts at a multiple of 8 bytes).
            found = raw[offset:offset + size].view(dtype)
            offset += size + -size % 8
            return found

        for name, info in header["fields"].items():
            docs, tokens, runs, words = info["docs"], info["tokens"], info["runs"], info["words"]
            positions = info["positions"]
            starts = part(positions, docs + 1)
            run_starts = part(positions, words + 1)
            run_blocks = part(info["blocks"], runs)
            run_ends = part(positions, runs + 1)
            lows = part("<u2", tokens)
            ends = part(info["word_ends"], words + 1)
            hashes, ids = part("<u4", words), part("<i4", words)
            vocabulary = Vocabulary(part("u1", info["word_bytes"]), ends, hashes, ids)
            self.fields[name] = Field(vocabulary, starts, run_starts, run_blocks, run_ends, lows,
                                      info["block_bits"])
        if offset != len(raw):
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
        at = at.astype(starts.dtype)  # keys of the offsets' own type (no copy of the offsets)
        docs = np.searchsorted(starts, at, side="right") - 1
        docs = docs[at + len(known) <= starts[docs + 1]]
        docs = docs[np.append(True, docs[1:] != docs[:-1])] if len(docs) else docs  # (ascending)
        if among is None or not len(docs):
            return docs
        # Documents beyond `among` (every place of the rarest word was a start) left out.
        index = np.minimum(np.searchsorted(among, docs), len(among) - 1)
        return docs[among[index] == docs]


def _run_starts(field: Field, wanted: list[int], among: np.ndarray | None) -> np.ndarray:
    """Where the words `wanted` occur one after the other in the field's sequence (ascending), as
    places of the rarest word less its index; each other word looked up in its own places (rarest
    first, so the candidates shrink early). Within the documents `among` only when they are few
    beside the rarest word's places (a slice per document, found by binary search); else every
    place of the rarest word is a start (one array, no search: cheaper than the slices when the
    words are common, e.g. "language models"), which may find documents beyond `among`."""
    starts = field.starts
    counts = [field.count(w) for w in wanted]
    steps = sorted(range(len(wanted)), key=counts.__getitem__)
    rarest = steps[0]
    w = wanted[rarest]
    if among is None or len(among) * RESTRICT_KEYS >= counts[rarest]:
        at = field.places(w, field.place_type()) - rarest
        at = at[(at >= 0) & (at <= int(starts[-1]) - len(wanted))]
    else:  # the run's start at a place where the whole run fits in its document
        among = among[among < len(starts) - 1]
        lo, _ = field.lower_bound(w, starts[among].astype(np.int64) + rarest)
        hi, _ = field.lower_bound(w, starts[among + 1].astype(np.int64) - len(wanted) + rarest + 1)
        lengths = np.maximum(hi - lo, 0)
        ends = np.cumsum(lengths)
        picked = np.repeat(lo - (ends - lengths), lengths) + np.arange(int(ends[-1]) if len(ends) else 0)
        at = field.places_at(w, picked) - rarest
    for step in steps[1:]:
        if not len(at):
            break
        at = field.having(wanted[step], at + step) - step
    return at


def path_for(folder: Path, segment_id: str) -> Path:
    return Path(folder) / f"{PREFIX}{segment_id}{EXTENSION}"


def word_order_for(folder: Path, segment_id: str) -> WordOrder | None:
    """The word order file of a segment, or None."""
    return open_cached(path_for(folder, segment_id), WordOrder)


def prune(folder: Path, segment_ids: set[str]) -> None:
    sidecar.prune(folder, segment_ids, PREFIX, EXTENSION)
