"""Papers as sparse tf-idf vectors of hashed words, word pairs, organisation and authors.

Features are hashed (no shared vocabulary file), so the desk and a CLI process can add papers to
the cache at the same time without disagreeing about what a feature number means. The cache lives
in `<library>/rank/` as append-only chunks (ids + CSR arrays of counts); it is derived data, rebuilt
from SQLite when missing or unreadable. tf-idf weights are computed from the counts when loaded.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sqlite3
import uuid
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BITS = 20
DIM = 1 << BITS
MASK = np.uint64(DIM - 1)
CHUNK_PAPERS = 2000          # papers featurised per vectorised step
MAX_CHUNKS = 24              # more chunk files than this are merged into one
CACHE_VERSION = "1"
_WORD = re.compile(r"[^\W\d_][^\W_]+")  # words of 2+ characters starting with a letter
STOP = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just may me more most my no
nor not now of off on once only or other our ours out over own same she should so some such than
that the their them then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours via thus however we our
paper propose proposed show shows present presents based using use used new approach method methods
results result work existing state art also well across two one three first large
""".split())  # noqa: SIM905 (a word list reads better as text)

Progress = Callable[[int, int, str], None]


def _hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


class Hasher:
    """Word → 32-bit hash, remembered (a digest's words repeat: most lookups hit the memo)."""

    def __init__(self) -> None:
        self._memo: dict[str, int] = {}

    def words(self, text: str) -> list[str]:
        return [w for w in _WORD.findall(text.lower()) if w not in STOP]

    def hashes(self, words: Sequence[str]) -> list[int]:
        memo = self._memo
        out = []
        for w in words:
            h = memo.get(w)
            if h is None:
                h = memo[w] = _hash(w)
            out.append(h)
        if len(memo) > 500_000:
            memo.clear()
        return out


def pair_features(h: np.ndarray) -> np.ndarray:
    """Feature numbers of adjacent word pairs, from the words' 32-bit hashes."""
    if len(h) < 2:
        return np.empty(0, dtype=np.uint64)
    a, b = h[:-1].astype(np.uint64), h[1:].astype(np.uint64)
    return ((a * np.uint64(0x9E3779B1)) ^ (b + np.uint64(0x7F4A7C15))) & MASK


def meta_names(organization: str | None, authors: Sequence[str]) -> list[str]:
    names = [f"org {organization.strip()}"] if organization and organization.strip() else []
    names += [f"author {a.strip()}" for a in authors[:20] if a and a.strip()]
    return names


def paper_text(title: str, abstract: str) -> str:
    # The title twice: its words say more about the paper than the abstract's.
    return f"{title}\n{title}\n{abstract}"


def features_of(hasher: Hasher, title: str, abstract: str, organization: str | None,
                authors: Sequence[str]) -> np.ndarray:
    """One paper's feature numbers, with repeats (counts come from the repeats)."""
    words = hasher.words(paper_text(title, abstract))
    h = np.asarray(hasher.hashes(words), dtype=np.uint64)
    meta = np.asarray([_hash(n.lower()) for n in meta_names(organization, authors)], dtype=np.uint64)
    return np.concatenate([h & MASK, pair_features(h), meta & MASK])


def names_of(hasher: Hasher, title: str, abstract: str, organization: str | None,
             authors: Sequence[str]) -> dict[int, str]:
    """Feature number → a readable name, for the features of one paper (explanations)."""
    words = hasher.words(paper_text(title, abstract))
    h = np.asarray(hasher.hashes(words), dtype=np.uint64)
    names: dict[int, str] = {}
    for f, w in zip((h & MASK).tolist(), words, strict=True):
        names.setdefault(f, w)
    for f, (w1, w2) in zip(pair_features(h).tolist(), itertools.pairwise(words), strict=False):
        names.setdefault(f, f"{w1} {w2}")
    for n in meta_names(organization, authors):
        names.setdefault(_hash(n.lower()) & (DIM - 1), "+" + n)
    return names


@dataclass
class Chunk:
    ids: list[str]
    indptr: np.ndarray   # int64, len(ids) + 1
    indices: np.ndarray  # int32 feature numbers, sorted within a row
    counts: np.ndarray   # uint8 (capped)


def build_chunk(rows: Iterable[tuple[str, str, str, str | None, str]], hasher: Hasher) -> Chunk:
    """CSR counts for (id, title, abstract, organization, authors JSON) rows."""
    ids: list[str] = []
    indptr = [0]
    parts_i: list[np.ndarray] = []
    parts_c: list[np.ndarray] = []
    for pid, title, abstract, org, authors_json in rows:
        try:
            authors = json.loads(authors_json or "[]")
        except ValueError:
            authors = []
        feats = features_of(hasher, title or "", abstract or "", org,
                            [a for a in authors if isinstance(a, str)])
        uniq, counts = np.unique(feats, return_counts=True)
        ids.append(pid)
        parts_i.append(uniq.astype(np.int32))
        parts_c.append(np.minimum(counts, 255).astype(np.uint8))
        indptr.append(indptr[-1] + len(uniq))
    return Chunk(
        ids=ids, indptr=np.asarray(indptr, dtype=np.int64),
        indices=np.concatenate(parts_i) if parts_i else np.empty(0, np.int32),
        counts=np.concatenate(parts_c) if parts_c else np.empty(0, np.uint8),
    )


def merge_chunks(chunks: Sequence[Chunk]) -> Chunk:
    if len(chunks) == 1:
        return chunks[0]
    ids = [pid for c in chunks for pid in c.ids]
    offsets = np.cumsum([0] + [len(c.indices) for c in chunks[:-1]])
    indptr = np.concatenate([np.zeros(1, np.int64)] + [c.indptr[1:] + off
                                                       for c, off in zip(chunks, offsets, strict=True)])
    return Chunk(ids=ids, indptr=indptr, indices=np.concatenate([c.indices for c in chunks]),
                 counts=np.concatenate([c.counts for c in chunks]))


_LOG_TF = (1 + np.log(np.maximum(np.arange(256, dtype=np.float32), 1))).astype(np.float32)  # by count


def segment_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """The sum of each CSR row's values (0 for an empty row)."""
    if len(indptr) < 2:
        return np.zeros(0, dtype=values.dtype)
    # One zero appended, so a trailing empty row's start is still a valid index for reduceat.
    sums = np.add.reduceat(np.append(values, values.dtype.type(0)), indptr[:-1])
    return np.where(np.diff(indptr) > 0, sums, 0)


class FeatureCache:
    """The library's papers as rows of one CSR matrix, kept in step with SQLite on `refresh()`."""

    def __init__(self, folder: Path):
        self.dir = folder / "rank"
        self.hasher = Hasher()
        self.matrix = Chunk(ids=[], indptr=np.zeros(1, np.int64), indices=np.empty(0, np.int32),
                            counts=np.empty(0, np.uint8))
        self.row_of: dict[str, int] = {}
        self._loaded: set[str] = set()   # chunk file names already in the matrix
        self.idf = np.ones(DIM, dtype=np.float32)
        # tf-idf values are made from the counts when needed (a float per feature would more than
        # double the memory: 100k papers hold ~26M features); each row's L2 norm is kept.
        self.norms = np.ones(0, dtype=np.float32)

    # -- disk -------------------------------------------------------------------------------
    def _chunk_files(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob(f"v{CACHE_VERSION}-*.npz"))

    def _write(self, chunk: Chunk, name: str | None = None) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        name = name or f"v{CACHE_VERSION}-{uuid.uuid4().hex}.npz"
        tmp = self.dir / f".{name}.tmp"
        with open(tmp, "wb") as fh:
            np.savez(fh, ids=np.asarray("\n".join(chunk.ids)), indptr=chunk.indptr,
                     indices=chunk.indices, counts=chunk.counts)
        os.replace(tmp, self.dir / name)
        return name

    @staticmethod
    def _read(path: Path) -> Chunk | None:
        try:
            with np.load(path) as data:
                text = str(data["ids"])
                return Chunk(ids=text.split("\n") if text else [], indptr=data["indptr"],
                             indices=data["indices"], counts=data["counts"])
        except (OSError, ValueError, KeyError, EOFError, zlib.error):
            return None  # a torn or foreign file: its papers are featurised again

    # -- keeping in step ----------------------------------------------------------------------
    def refresh(self, conn: sqlite3.Connection, progress: Progress | None = None) -> int:
        """Read new chunk files, featurise papers no chunk has, and recompute tf-idf. Returns
        the number of papers featurised here."""
        chunks = [self.matrix] if self.matrix.ids else []
        for path in self._chunk_files():
            if path.name in self._loaded:
                continue
            chunk = self._read(path)
            self._loaded.add(path.name)
            if chunk is not None:
                chunks.append(chunk)
        seen = set(self.row_of)
        for c in chunks[1 if self.matrix.ids else 0:]:
            seen.update(c.ids)
        missing = [pid for (pid,) in conn.execute("SELECT id FROM papers") if pid not in seen]
        made = 0
        for start in range(0, len(missing), CHUNK_PAPERS):
            part = missing[start:start + CHUNK_PAPERS]
            marks = ",".join("?" * len(part))
            rows = conn.execute(
                f"SELECT id, title, abstract, organization, authors FROM papers WHERE id IN ({marks})",
                part).fetchall()
            chunk = build_chunk(rows, self.hasher)
            self._loaded.add(self._write(chunk))
            chunks.append(chunk)
            made += len(part)
            if progress:
                progress(made, len(missing), "reading papers for ranking")
        if len(chunks) > (1 if self.matrix.ids else 0):
            self._set_matrix(merge_chunks(chunks))
        if len(self._loaded) > MAX_CHUNKS:
            self._compact()
        return made

    def _compact(self) -> None:
        """Many small chunk files (daily imports) become one."""
        old = self._chunk_files()
        name = self._write(self.matrix)
        for path in old:
            if path.name != name:
                path.unlink(missing_ok=True)
        self._loaded = {name}

    def _set_matrix(self, m: Chunk) -> None:
        # A paper featurised twice (two processes at once) keeps its last row; that is harmless.
        self.matrix = m
        self.row_of = {pid: i for i, pid in enumerate(m.ids)}
        n = max(len(m.ids), 1)
        df = np.bincount(m.indices, minlength=DIM).astype(np.float32)
        self.idf = (np.log((n + 1) / (df + 1)) + 1).astype(np.float32)
        values = _LOG_TF[m.counts] * self.idf[m.indices]
        self.norms = np.sqrt(np.maximum(segment_sums(values * values, m.indptr), 1e-12)).astype(np.float32)

    # -- reading ------------------------------------------------------------------------------
    def rows(self, ids: Sequence[str]) -> np.ndarray:
        """Row numbers of these papers (-1 for a paper not featurised)."""
        get = self.row_of.get
        return np.fromiter((get(pid, -1) for pid in ids), dtype=np.int64, count=len(ids))

    def row(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.matrix.indptr[r], self.matrix.indptr[r + 1]
        idx = self.matrix.indices[a:b]
        return idx, _LOG_TF[self.matrix.counts[a:b]] * self.idf[idx] / self.norms[r]

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A sub-matrix (indptr, indices, values) of these rows, in this order."""
        ptr = self.matrix.indptr
        starts, ends = ptr[rows], ptr[rows + 1]
        lengths = ends - starts
        indptr = np.concatenate([np.zeros(1, np.int64), np.cumsum(lengths)])
        if indptr[-1] == 0:
            return indptr, np.empty(0, np.int32), np.empty(0, np.float32)
        offsets = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        idx = self.matrix.indices[offsets]
        values = _LOG_TF[self.matrix.counts[offsets]] * self.idf[idx] / np.repeat(self.norms[rows], lengths)
        return indptr, idx, values

    def score_all(self, weights: np.ndarray) -> np.ndarray:
        """weights · row for every row (one gather and one segmented sum)."""
        m = self.matrix
        if not m.ids:
            return np.empty(0, np.float32)
        per_feature = (weights * self.idf).astype(np.float32)
        sums = segment_sums(per_feature[m.indices] * _LOG_TF[m.counts], m.indptr)
        return (sums / self.norms).astype(np.float32)
