"""Long posting lists of a Whoosh segment, also written as plain arrays beside it (`<segment>.npp`).

Whoosh stores postings as pickled, zlib'd blocks of 128: a common word's 40,000 abstract postings
cost ~15 ms to unpickle on every first use, and as-you-type meets new words at every keystroke.
Our segment writer (writer.py) also writes each list of at least MIN_POSTINGS postings as raw
int32 docnums and float32 weights; the evaluator maps the file and slices it. A segment merged
away leaves its file behind until `prune` (after each commit of the index queue). A segment
without one (an index written before, or by Whoosh's own writer) is read through Whoosh as before.

Layout: MAGIC, an 8-byte little-endian header length, the pickled header {"terms": {(field,
term bytes): (start, count)}, "count": n}, then n int32 docnums and n float32 weights.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
from array import array
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

PREFIX, EXTENSION = "postings_", ".npp"  # not the segment's own prefix: Whoosh would pack it into
# the segment's compound file
MAGIC = b"PDNPP1\n"
MIN_POSTINGS = 512  # shorter lists unpickle quickly enough
SKIP_FIELDS = frozenset({"id", "arxiv", "sig"})  # one posting per term: never long
_LENGTH = struct.Struct("<Q")
T = TypeVar("T")

Posting = tuple[str, bytes, int, float, Any]  # as Whoosh's posting pool yields them


class Collector:
    """Passes a segment's sorted posting stream through, keeping the long lists."""

    def __init__(self, postings: Iterable[Posting] = ()):
        self._postings = postings
        self.terms: dict[tuple[str, bytes], tuple[int, int]] = {}
        self.docnums = array("i")
        self.weights = array("f")

    def __iter__(self) -> Iterator[Posting]:
        docnums, weights = self.docnums, self.weights
        key: tuple[str, bytes] | None = None
        start = 0
        for posting in self._postings:
            fieldname, text, docnum, weight = posting[0], posting[1], posting[2], posting[3]
            if docnum < 0:  # a word for the spelling dictionary, not a posting (Whoosh's convention)
                yield posting
                continue
            if (fieldname, text) != key:
                self._close(key, start)
                key, start = (fieldname, text), len(docnums)
            if fieldname not in SKIP_FIELDS:
                docnums.append(docnum)
                weights.append(weight)
            yield posting
        self._close(key, start)

    def add_list(self, fieldname: str, text: bytes, docnums: array, weights: array) -> None:
        """Keep a whole posting list given at once, if it is long."""
        if len(docnums) >= MIN_POSTINGS:
            self.terms[(fieldname, text)] = (len(self.docnums), len(docnums))
            self.docnums.extend(docnums)
            self.weights.extend(weights)

    def _close(self, key: tuple[str, bytes] | None, start: int) -> None:
        count = len(self.docnums) - start
        if key is not None and count >= MIN_POSTINGS:
            self.terms[key] = (start, count)
        elif count:
            del self.docnums[start:]
            del self.weights[start:]

    def write(self, path: Path) -> None:
        """Write the file (nothing when no list was long)."""
        if not self.terms:
            return
        docnums = self.docnums.tobytes() if self.docnums.itemsize == 4 else \
            np.asarray(self.docnums, dtype=np.int32).tobytes()
        write_file(path, MAGIC, {"terms": self.terms, "count": len(self.docnums)},
                   [docnums, np.asarray(self.weights, dtype=np.float32).tobytes()])


def write_file(path: Path, magic: bytes, header: dict, parts: list[bytes]) -> None:
    """A file beside a segment: `magic`, the pickled header's length and the header, then the
    parts; atomically, as segments are."""
    raw = pickle.dumps(header, protocol=4)
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


class Sidecar:
    """A segment's long posting lists, memory-mapped."""

    def __init__(self, path: Path):
        header, offset = read_header(path, MAGIC)
        self.terms: dict[tuple[str, bytes], tuple[int, int]] = header["terms"]
        count = header["count"]
        self.docnums = np.memmap(path, dtype=np.int32, mode="r", offset=offset, shape=(count,)) \
            if count else np.zeros(0, dtype=np.int32)
        self.weights = np.memmap(path, dtype=np.float32, mode="r", offset=offset + 4 * count,
                                 shape=(count,)) if count else np.zeros(0, dtype=np.float32)

    def postings(self, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """(docnums, weights) of a long list, or None when the list is not here."""
        found = self.terms.get((fieldname, text))
        if found is None:
            return None
        start, count = found
        return (self.docnums[start:start + count].astype(np.int64),
                self.weights[start:start + count].astype(np.float64))


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
