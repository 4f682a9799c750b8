"""Every posting list of a segment, also written as plain arrays beside it (`postings_<segment>.npp`):
the one postings format the evaluator reads.

Whoosh stores postings as pickled, zlib'd blocks of 128: a common word's 40,000 abstract postings
cost ~15 ms to unpickle on every first use, and as-you-type meets new words at every keystroke.
Our segment writer (whoosh_internals.py) also writes each field's lists as raw int32 docnums and
weights, the terms sorted, so the evaluator maps the file and slices it. A weight is a word's count
in the document (boosts are 1): one byte while a field's counts stay under 256 (two under 65,536,
else float32), 5 bytes a posting instead of 8. Fields no query
reads by term (spelling words, numbers: ranges read columns) are left out (`covers`). Every
segment our writer writes has its file (the index checks at open); a segment merged away leaves
its file behind until `prune` (after each commit of the index queue).

A docnum is kept in two bytes (INDEX_VERSION 15): a term's list is cut into runs, one per block
of 2^16 documents it has postings in (the run's first posting and the block's number), each
docnum its low 16 bits (at 100k papers 5 -> ~3 bytes a posting; a run costs 6-12 bytes, and a
term has one per block: at most 16 in a million-document segment).

Layout: MAGIC, an 8-byte little-endian header length, the pickled header {"fields": {name: (terms,
term bytes, first posting, postings, weight dtype)}, "count": n, "runs": r, "positions": "<i4" or
"<i8", "blocks": "<u2" or "<i4", "block_bits": b} padded so that the parts start at a multiple of
8 bytes, then n docnums' low bits ("<u2"), r runs' first postings (of "positions") and r runs'
blocks (of "blocks"), each of these three padded to 8 bytes, then per field in header order its
postings' weights (of its dtype), then per field in header order: terms + 1 int64 term offsets
into the field's term bytes, the term bytes (terms ascending), terms + 1 int64 offsets into the
postings.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import struct
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

PREFIX, EXTENSION = "postings_", ".npp"  # not the segment's own prefix: Whoosh would pack it into
# the segment's compound file
MAGIC = b"PDNPP4\n"
SHORT_RUN = 4096  # postings_in reads lists of shorter runs whole (a run costs ~10 µs of Python)
BLOCK_BITS = 16  # a docnum is its block's number (per run) and its low 16 bits; tests use fewer
_LENGTH = struct.Struct("<Q")
SAMPLE = 32  # every SAMPLE-th term of a field's table is kept in memory (the rest read in place)
_OFFSETS = struct.Struct(f"<{SAMPLE + 1}q")
_RANGE = struct.Struct("<2q")
T = TypeVar("T")

Posting = tuple[str, bytes, int, float, Any]  # as Whoosh's posting pool yields them


class _FieldLists:
    """One field's terms (ascending) and where each one's postings start, as they are written."""

    def __init__(self, first: int):
        self.first = first  # the field's first posting in the file
        self.term_ends = array("q")  # each term's end in `terms`
        self.terms = bytearray()
        self.ends = array("q")  # each term's postings' end (from `first`)


class Collector:
    """Keeps a segment's posting lists as they are written, sorted by field and term: from a
    posting stream passed through (`Collector(postings)`, iterated) or whole lists (`add_list`).
    `skip(fieldname)`: fields whose lists are not kept."""

    def __init__(self, postings: Iterable[Posting] = (), skip: Callable[[str], bool] = lambda name: False):
        self._postings = postings
        self._skip = skip
        self.fields: dict[str, _FieldLists] = {}
        self.docnums = array("i")
        self.weights = array("f")

    def __iter__(self) -> Iterator[Posting]:
        key: tuple[str, bytes] | None = None
        for posting in self._postings:
            fieldname, text, docnum, weight = posting[0], posting[1], posting[2], posting[3]
            if docnum >= 0 and not self._skip(fieldname):  # < 0: a spelling word, not a posting
                if (fieldname, text) != key:
                    self._start(fieldname, text)
                    key = (fieldname, text)
                self.docnums.append(docnum)
                self.weights.append(weight)
                self._end(fieldname)
            yield posting

    def add_list(self, fieldname: str, text: bytes, docnums: array, weights: array) -> None:
        """Keep a whole posting list given at once (after the lists of lower terms)."""
        if self._skip(fieldname):
            return
        self._start(fieldname, text)
        self.docnums.extend(docnums)
        self.weights.extend(weights)
        self._end(fieldname)

    def _start(self, fieldname: str, text: bytes) -> None:
        lists = self.fields.get(fieldname)
        if lists is None:
            lists = self.fields[fieldname] = _FieldLists(len(self.docnums))
        lists.terms += text
        lists.term_ends.append(len(lists.terms))
        lists.ends.append(len(self.docnums) - lists.first)

    def _end(self, fieldname: str) -> None:
        lists = self.fields[fieldname]
        lists.ends[-1] = len(self.docnums) - lists.first

    def write(self, path: Path) -> None:
        """Write the file (also without lists: every segment has one)."""
        docnums = np.frombuffer(self.docnums, dtype=np.int32) if self.docnums.itemsize == 4 and \
            len(self.docnums) else np.asarray(self.docnums, dtype=np.int32)
        count = len(docnums)
        # A run starts at each term's first posting and wherever its block changes.
        blocks = docnums >> BLOCK_BITS
        new_run = np.zeros(count, dtype=bool)
        for lists in self.fields.values():
            term_starts = lists.first + np.asarray([0, *lists.ends[:-1]], dtype=np.int64)
            new_run[term_starts[term_starts < count]] = True
        new_run[1:] |= blocks[1:] != blocks[:-1]
        run_first = np.flatnonzero(new_run)
        positions = "<i4" if count < 1 << 31 else "<i8"
        block_type = "<u2" if not count or int(blocks.max()) < 1 << 16 else "<i4"
        header: dict = {"fields": {}, "count": count, "runs": len(run_first), "positions": positions,
                        "blocks": block_type, "block_bits": BLOCK_BITS}
        weights = np.frombuffer(self.weights, dtype=np.float32) if len(self.weights) else \
            np.zeros(0, dtype=np.float32)
        parts = [_padded((docnums & ((1 << BLOCK_BITS) - 1)).astype("<u2")),
                 _padded(run_first.astype(positions)), _padded(blocks[run_first].astype(block_type))]
        del blocks, new_run
        lists_parts: list[bytes] = []
        for name, lists in self.fields.items():
            count = lists.ends[-1] if lists.ends else 0
            field_weights = weights[lists.first:lists.first + count]
            kind = narrowest(field_weights)
            header["fields"][name] = (len(lists.ends), len(lists.terms), lists.first, count, kind)
            parts.append(field_weights.astype(kind).tobytes())
            lists_parts += [np.asarray([0, *lists.term_ends], dtype="<i8").tobytes(), bytes(lists.terms),
                            np.asarray([0, *lists.ends], dtype="<i8").tobytes()]
        write_file(path, MAGIC, header, parts + lists_parts)


def _padded(values: np.ndarray) -> bytes:
    """The array's bytes, zeros appended to a multiple of 8 (the next part stays aligned: numpy
    copies a misaligned array before searching it)."""
    raw = values.tobytes()
    return raw + bytes(-len(raw) % 8)


def narrowest(weights: np.ndarray) -> str:
    """The smallest dtype that holds these weights exactly: counts in one or two bytes."""
    if not len(weights):
        return "<u1"
    if weights.min() >= 0 and np.array_equal(weights, np.floor(weights)):
        top = weights.max()
        if top < 1 << 8:
            return "<u1"
        if top < 1 << 16:
            return "<u2"
    return "<f4"


def write_file(path: Path, magic: bytes, header: dict, parts: list[bytes]) -> None:
    """A file beside a segment: `magic`, the pickled header's length and the header, then the
    parts; atomically, as segments are."""
    raw = pickle.dumps(header, protocol=4)
    # Zeros after the header (unpickling stops before them): the parts start at a multiple of 8
    # bytes, so their arrays are aligned (numpy copies a misaligned array before searching it).
    raw += bytes(-(len(magic) + _LENGTH.size + len(raw)) % 8)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as out:
        out.write(magic + _LENGTH.pack(len(raw)) + raw)
        for part in parts:
            out.write(part)
    os.replace(partial, path)


def read_header(path: Path, magic: bytes) -> tuple[dict, int]:
    """The header of a file `write_file` wrote, and where its parts start."""
    with open(path, "rb") as f:
        if f.read(len(magic)) != magic:
            raise ValueError(f"not a {magic!r} file: {path}")
        (length,) = _LENGTH.unpack(f.read(_LENGTH.size))
        header = pickle.loads(f.read(length))
    return header, len(magic) + _LENGTH.size + length


class _Terms:
    """One field's terms, ascending, read in place from the file's map: every `SAMPLE`-th term
    is kept in memory (for `bisect`), the rest are read from the map when a look-up comes near
    them (at 1M papers the tables are ~75 MB, ids and titles' numbers mostly: in memory as Python
    arrays they were most of what an open index held)."""

    __slots__ = ("blob_at", "count", "ends_at", "map", "sample", "term_ends_at")

    def __init__(self, mapped: mmap.mmap, term_ends_at: int, count: int, blob_at: int, ends_at: int,
                 read: Callable[[int, int], bytes]):
        self.map, self.count = mapped, count
        self.term_ends_at, self.blob_at, self.ends_at = term_ends_at, blob_at, ends_at
        # The sample from a plain read, not the map: touching every page of the map would make the
        # whole table resident in this process.
        term_ends = np.frombuffer(read(term_ends_at, 8 * (count + 1)), dtype="<i8")
        blob = read(blob_at, int(term_ends[-1]))
        starts, stops = term_ends[:count:SAMPLE].tolist(), term_ends[1:count + 1:SAMPLE].tolist()
        self.sample = [blob[a:b] for a, b in zip(starts, stops, strict=True)]

    def find(self, text: bytes) -> int | None:
        """The term's index, or None when the field does not have it."""
        k = bisect_right(self.sample, text) - 1
        if k < 0:
            return None
        lo = k * SAMPLE
        hi = min(lo + SAMPLE, self.count)
        ends = _OFFSETS.unpack_from(self.map, self.term_ends_at + 8 * lo) if hi - lo == SAMPLE else \
            struct.unpack_from(f"<{hi - lo + 1}q", self.map, self.term_ends_at + 8 * lo)
        base = ends[0]
        chunk = self.map[self.blob_at + base:self.blob_at + ends[-1]]
        a, b = 0, hi - lo
        while a < b:  # the first term >= text
            mid = (a + b) >> 1
            if chunk[ends[mid] - base:ends[mid + 1] - base] < text:
                a = mid + 1
            else:
                b = mid
        if a == hi - lo or chunk[ends[a] - base:ends[a + 1] - base] != text:
            return None
        return lo + a

    def postings(self, k: int) -> tuple[int, int]:
        """Where term k's postings start and stop (from the field's first posting)."""
        return _RANGE.unpack_from(self.map, self.ends_at + 8 * k)

    def every(self) -> Iterator[tuple[bytes, int, int]]:
        """Every (term, postings start, stop), ascending (for a merge)."""
        n = self.count + 1
        term_ends = np.frombuffer(self.map, dtype="<i8", count=n, offset=self.term_ends_at).tolist()
        ends = np.frombuffer(self.map, dtype="<i8", count=n, offset=self.ends_at).tolist()
        blob = self.map[self.blob_at:self.blob_at + term_ends[-1]]
        for k in range(self.count):
            yield blob[term_ends[k]:term_ends[k + 1]], ends[k], ends[k + 1]


class Sidecar:
    """A segment's posting lists, memory-mapped; each field's terms read in place (`_Terms`)."""

    def __init__(self, path: Path):
        header, offset = read_header(path, MAGIC)
        count = header["count"]
        size = path.stat().st_size
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else None

            def read(at: int, n: int) -> bytes:
                f.seek(at)
                return f.read(n)

            self._open(path, header, offset, count, size, read)

    def _open(self, path: Path, header: dict, offset: int, count: int, size: int,
              read: Callable[[int, int], bytes]) -> None:
        # A plain array over the map (a memmap's slices pay for its Python subclass).
        raw = np.frombuffer(self._map, dtype=np.uint8) if self._map else np.zeros(0, dtype=np.uint8)
        runs, positions = header["runs"], np.dtype(header["positions"])
        blocks = np.dtype(header["blocks"])

        def part(dtype: np.dtype, n: int) -> np.ndarray:
            nonlocal offset
            found = raw[offset:offset + dtype.itemsize * n].view(dtype)
            offset += dtype.itemsize * n
            offset += -offset % 8
            return found

        self.lows = part(np.dtype("<u2"), count)
        self.run_first = part(positions, runs)
        self.run_blocks = part(blocks, runs)
        self.block_bits = header["block_bits"]
        weights: dict[str, np.ndarray] = {}
        for name, (_terms, _size, _first, postings, kind) in header["fields"].items():
            width = np.dtype(kind).itemsize
            weights[name] = raw[offset:offset + width * postings].view(kind)
            offset += width * postings
        # Per field: (its terms, the field's first posting, its postings' weights).
        self.fields: dict[str, tuple[_Terms, int, np.ndarray]] = {}
        for name, (terms, size_, first, _postings, _kind) in header["fields"].items():
            term_ends_at = offset
            blob_at = term_ends_at + 8 * (terms + 1)
            ends_at = blob_at + size_
            offset = ends_at + 8 * (terms + 1)
            if offset > size:
                break
            self.fields[name] = (_Terms(self._map, term_ends_at, terms, blob_at, ends_at, read), first,
                                 weights[name])
        if offset != size:
            raise ValueError(f"postings file of the wrong size: {path}")

    def covers(self, fieldname: str) -> bool:
        """Whether the field's lists are here (a field without any term in the segment is not)."""
        return fieldname in self.fields

    def postings(self, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """(docnums, weights) of a term's list, or None when the segment does not have the term;
        the weights as stored (counts in one or two bytes, read-only: a view of the file)."""
        span = self._span(fieldname, text)
        if span is None:
            return None
        first, start, stop, weights = span
        return self.docnums(first + start, first + stop), weights[start:stop]

    def _span(self, fieldname: str, text: bytes) -> tuple[int, int, int, np.ndarray] | None:
        """Where a term's list is: the field's first posting, the list's start and stop within
        the field, and the field's weights; None when the segment does not have the term."""
        found = self.fields.get(fieldname)
        if found is None:
            return None
        terms, first, weights = found
        k = terms.find(text)
        if k is None:
            return None
        start, stop = terms.postings(k)
        return first, start, stop, weights

    def postings_in(self, fieldname: str, text: bytes,
                    keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, int] | None:
        """`postings` of only the documents set in the mask `keep` (by docnum), and the whole
        list's length; None when the segment does not have the term. Looked up run by run in the
        mask's slice of the run's block: only the postings kept are made docnums and weights."""
        span = self._span(fieldname, text)
        if span is None:
            return None
        first, start, stop, weights = span
        lo, hi = self.run_first.searchsorted(
            np.asarray([first + start, first + stop], dtype=self.run_first.dtype))
        if stop - start < (hi - lo) * SHORT_RUN:  # short runs: the whole list, then the mask
            docnums = self.docnums(first + start, first + stop)
            hit = np.flatnonzero(keep[docnums])
            return docnums[hit], weights[start:stop][hit], stop - start
        ids, kept = [], []
        for run in range(lo, hi):
            a = int(self.run_first[run])
            b = int(self.run_first[run + 1]) if run + 1 < hi else first + stop
            base = int(self.run_blocks[run]) << self.block_bits
            hit = np.flatnonzero(keep[base:base + (1 << self.block_bits)][self.lows[a:b]])
            ids.append(self.lows[a:b][hit].astype(np.int64) + base)
            kept.append(hit + (a - first))
        if not ids:
            return np.zeros(0, dtype=np.int64), weights[:0], stop - start
        at = np.concatenate(kept) if len(kept) > 1 else kept[0]
        return (np.concatenate(ids) if len(ids) > 1 else ids[0]), weights[at], stop - start

    def docnums(self, start: int, stop: int) -> np.ndarray:
        """The docnums of postings start..stop - 1 (int64), where a term's list starts a run:
        each run's block number shifted into place, with the postings' low bits."""
        if stop <= start:
            return np.zeros(0, dtype=np.int64)
        first = self.run_first
        # Keys of the array's own type (a Python int would make numpy copy it to int64).
        lo, hi = first.searchsorted(np.asarray([start, stop], dtype=first.dtype))
        found = self.lows[start:stop].astype(np.int64)
        # Each run's block added in place (a list has at most one run a block: 16 in a million
        # documents), never a second array as long as the list.
        for k in range(lo, hi):
            block = int(self.run_blocks[k])
            if block:  # (the first 2^16 documents: the low bits are the docnum)
                a = int(first[k]) - start
                b = int(first[k + 1]) - start if k + 1 < hi else stop - start
                found[a:b] |= block << self.block_bits
        return found

    def field_lists(self, fieldname: str) -> Iterator[tuple[bytes, np.ndarray, np.ndarray]]:
        """Every (term, docnums, weights) of a field, terms ascending (for a merge)."""
        terms, first, weights = self.fields[fieldname]
        docnums = self.docnums(first, first + len(weights))
        for text, start, stop in terms.every():
            yield text, docnums[start:stop], weights[start:stop].astype(np.float64)


_OPEN: dict[tuple[str, int], Any] = {}


def path_for(folder: Path, segment_id: str) -> Path:
    return Path(folder) / f"{PREFIX}{segment_id}{EXTENSION}"


def prune(folder: Path, segment_ids: set[str], prefix: str = PREFIX, extension: str = EXTENSION) -> None:
    """Delete the files (and a crashed writer's partial files) of segments no longer in the index.
    A file still mapped elsewhere stays readable on POSIX; on Windows the delete fails and is
    retried after the next commit."""
    for path in Path(folder).glob(f"{prefix}*{extension}*"):
        if path.name[len(prefix):].split(".", 1)[0] not in segment_ids:
            with contextlib.suppress(OSError):
                path.unlink()


def open_cached(path: Path, kind: Callable[[Path], T]) -> T | None:
    """A file beside a segment read as `kind` (cached: segments never change), or None when it is
    missing or damaged in any way (the segment is then read without it)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    key = (str(path), stamp)
    if key not in _OPEN:
        if len(_OPEN) > 128:
            _OPEN.clear()
        try:
            _OPEN[key] = kind(path)
        except Exception:
            _OPEN[key] = None
    return _OPEN[key]


def sidecar_for(folder: Path, segment_id: str) -> Sidecar | None:
    """The sidecar of a segment, or None."""
    return open_cached(path_for(folder, segment_id), Sidecar)
