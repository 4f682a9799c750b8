"""Papers as sparse tf-idf vectors of hashed words, word pairs, organisation and authors.

Features are hashed (no shared vocabulary file), so the desk and a CLI process can add papers to
the cache at the same time without disagreeing about what a feature number means. The cache lives
in `<library>/rank/` as append-only chunks (ids + CSR arrays of counts); it is derived data, rebuilt
from SQLite when missing or unreadable. tf-idf weights are computed from the counts when needed.

Each stored feature takes 3 bytes, in memory and on disk (100k papers hold ~26M): the low 16 bits of
its number (uint16) and one byte with the 4 high bits and the count, capped at 15 (sublinear tf makes
a 16th repeat worth little). Work over the whole matrix runs in blocks of rows, so unpacking never
needs a full-size temporary. A load reads the chunk files a block of rows at a time and appends the
kept entries to two unnamed files of its own process, which it maps read-only (`chunk_io`): the
matrix is page cache the kernel can take back, not anonymous memory (at 1M papers 336 MB).
"""

from __future__ import annotations

import itertools
import json
import mmap
import os
import re
import sqlite3
import sys
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paperdesk.core import abstract_text
from paperdesk.core.heap import release_freed_memory
from paperdesk.core.idlist import (
    IDS,
    RowIndex,
    decoded_ids,
    encoded_ids,
    encoded_in_slices,
    id_array,
    id_bytes,
)
from paperdesk.core.rank.chunk_io import EntryFiles, NpzMembers, write_npz

BITS = 20                    # 16 bits in a uint16 + 4 beside the count in a byte
DIM = 1 << BITS
# Words, organisations and authors take the lower half of the feature numbers, word pairs the upper
# half: pairs (millions at 100k papers) never collide with words, and a pair's weight can differ.
PAIRS = DIM >> 1
WORD_MASK = np.uint64(PAIRS - 1)
MAX_COUNT = 15
CHUNK_PAPERS = 2000          # papers featurised per vectorised step
CHILD_PAPERS = 5000          # featurising this many papers or more runs in a child process
MAX_CHUNKS = 24              # more chunk files than this are merged into one
BLOCK_ROWS = 2048            # rows unpacked at a time for whole-matrix work (~2 MB temporaries)
SCORE_ROWS = 512             # rows scored at a time: temporaries that stay in the CPU's cache
WRITE_ENTRIES = 1 << 22      # entries written to a chunk file at a time (~12 MB)
RELEASE_ENTRIES = 1 << 24    # the matrix's mapped pages are let go every this many entries read (48 MB)
FAULT_AROUND = 16 * mmap.PAGESIZE  # what a read fault maps of a file (Linux's fault_around_bytes)
STALE_SECONDS = 3600         # a half-written chunk file this old was left by a crash
SCATTERED_ROWS = 128         # rows here and there read from the mapped matrix at a time (`entries`)
CACHE_VERSION = "3"
# The matrix's entries are kept in files the process maps (`chunk_io.EntryFiles`): page cache the
# kernel can take back under pressure. Off: in anonymous memory (as where no file can be made).
MAP_ENTRIES = True
ENTRY_TYPES = (np.uint16, np.uint8)  # the matrix's low and high parts
# A feature in more than COMMON_DF of papers says little about any one: its idf counts half
# (bench_rank --quality, 10 seeds, p@20 after 50 decisions 0.547 -> 0.575). arxiv-sanity-lite drops
# them (max_df=0.1); that measures a little better on the mixed benchmark library but takes a focused
# library's own topic words out of its explanations. Features in over DROP_DF of papers are dropped
# from the in-memory matrix: they weigh next to nothing and take memory.
COMMON_DF = 0.1
# A word pair mostly repeats what its two words say, and most pairs are rare (high idf): at full
# weight pairs took most of a paper's norm from its words. They count a third (bench_rank --quality,
# 10 seeds, p@20 after 200 decisions 0.656 -> 0.665; without pairs 0.670, but then no "video
# distillation" in explanations).
PAIR_WEIGHT = 1 / 3
# Past this many papers word pairs are out of the in-memory matrix (the chunk files keep them; the
# scores are then as with PAIR_WEIGHT = 0, and explanations name no pairs). At 1M papers pairs are
# 133M of the matrix's 245M entries (~400 of its 743 MB) and all 2^19 pair numbers are taken, each by
# many pairs (hash collisions), so a pair says little; bench_rank --quality without pairs (10 seeds,
# p@20 after 10/50/200 decisions): 0.328/0.574/0.671 -> 0.329/0.566/0.676, alt topics
# 0.344/0.524/0.619 -> 0.345/0.528/0.620. Up to 300k papers the matrix with pairs stays under ~230 MB
# (it grows with the papers), so libraries of a few hundred thousand keep them.
PAIRS_UP_TO = 300_000
COMMON_WEIGHT = 0.5
DROP_DF = 0.3
# A feature of a single paper (a rare word pair, a one-off author) says nothing about any other, yet
# takes a share of its paper's norm and of memory: out of the matrix too, as arxiv-sanity-lite's
# min_df (bench_rank --quality, 10 seeds, p@20 after 200 decisions 0.646 -> 0.656; ~47% of the
# benchmark library's entries).
MIN_DF = 2
MIN_DF_PAPERS = 50           # these limits apply once the library has this many papers
TITLE_REPEAT = 2
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
    return ((a * np.uint64(0x9E3779B1)) ^ (b + np.uint64(0x7F4A7C15))) & WORD_MASK | np.uint64(PAIRS)


def word_feature(text: str) -> int:
    """The feature number of a word (or of "org X", "author Y")."""
    return _hash(text.lower()) & (PAIRS - 1)


def meta_names(organization: str | None, authors: Sequence[str]) -> list[str]:
    names = [f"org {organization.strip()}"] if organization and organization.strip() else []
    names += [f"author {a.strip()}" for a in authors[:20] if a and a.strip()]
    return names


def paper_text(title: str, abstract: str) -> str:
    # The title twice: its words say more about the paper than the abstract's.
    return "\n".join([title] * TITLE_REPEAT + [abstract])


def features_of(hasher: Hasher, title: str, abstract: str, organization: str | None,
                authors: Sequence[str]) -> np.ndarray:
    """One paper's feature numbers, with repeats (counts come from the repeats)."""
    words = hasher.words(paper_text(title, abstract))
    h = np.asarray(hasher.hashes(words), dtype=np.uint64)
    meta = np.asarray([word_feature(n) for n in meta_names(organization, authors)], dtype=np.uint64)
    return np.concatenate([h & WORD_MASK, pair_features(h), meta])


def names_of(hasher: Hasher, title: str, abstract: str, organization: str | None,
             authors: Sequence[str]) -> dict[int, str]:
    """Feature number → a readable name, for the features of one paper (explanations)."""
    words = hasher.words(paper_text(title, abstract))
    h = np.asarray(hasher.hashes(words), dtype=np.uint64)
    names: dict[int, str] = {}
    for f, w in zip((h & WORD_MASK).tolist(), words, strict=True):
        names.setdefault(f, w)
    for f, (w1, w2) in zip(pair_features(h).tolist(), itertools.pairwise(words), strict=False):
        names.setdefault(f, f"{w1} {w2}")
    for n in meta_names(organization, authors):
        names.setdefault(word_feature(n), "+" + n)
    return names


@dataclass
class Chunk:
    ids: np.ndarray      # fixed-width bytes (numpy "S", UTF-8): no object per id
    indptr: np.ndarray   # int64, len(ids) + 1
    low: np.ndarray      # uint16: a feature number's low 16 bits (sorted within a row)
    high: np.ndarray     # uint8: its 4 high bits << 4 | its count (1..15)

    @property
    def nbytes(self) -> int:
        return self.indptr.nbytes + self.low.nbytes + self.high.nbytes

    def packed(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """The low and high parts of entries start:stop (views)."""
        return self.low[start:stop], self.high[start:stop]

    def unpack(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Feature numbers (int32) and counts (uint8) of entries start:stop."""
        high = self.high[start:stop]
        return (high >> 4).astype(np.int32) << 16 | self.low[start:stop], high & MAX_COUNT

    def unpack_at(self, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        high = self.high[offsets]
        return (high >> 4).astype(np.int32) << 16 | self.low[offsets], high & MAX_COUNT

    def blocks(self) -> Iterable[tuple[int, int, np.ndarray, np.ndarray]]:
        """(first row, row stop, feature numbers, counts) for each block of rows."""
        for r0 in range(0, len(self.ids), BLOCK_ROWS):
            r1 = min(r0 + BLOCK_ROWS, len(self.ids))
            idx, counts = self.unpack(int(self.indptr[r0]), int(self.indptr[r1]))
            yield r0, r1, idx, counts


def pack(indices: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    low = (indices & 0xFFFF).astype(np.uint16)
    high = ((indices >> 16).astype(np.uint8) << 4) | np.minimum(counts, MAX_COUNT).astype(np.uint8)
    return low, high


def empty_chunk() -> Chunk:
    return Chunk(ids=encoded_ids([]), indptr=np.zeros(1, np.int64), low=np.empty(0, np.uint16),
                 high=np.empty(0, np.uint8))


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
        parts_c.append(counts)
        indptr.append(indptr[-1] + len(uniq))
    if not ids:
        return empty_chunk()
    low, high = pack(np.concatenate(parts_i), np.concatenate(parts_c))
    return Chunk(ids=encoded_ids(ids), indptr=np.asarray(indptr, dtype=np.int64), low=low, high=high)


def _resized(a: np.ndarray, n: int) -> np.ndarray:
    """`a` grown or cut to n entries, in place when it owns its memory: the allocator moves or
    trims a big block's pages (mremap) instead of copying them, so growing or cutting the matrix
    never holds two of it. Else a copy."""
    if a.flags.owndata and a.base is None and a.flags.c_contiguous:
        a.resize(n, refcheck=False)  # nothing else holds a view of a chunk's arrays
        return a
    out = np.empty(n, dtype=a.dtype)
    out[:min(n, len(a))] = a[:n]
    return out


def merge_chunks(chunks: Sequence[Chunk]) -> Chunk:
    """The chunks' rows in one chunk. The first chunk's arrays grow in place into the result's:
    the chunks are not to be used after."""
    if len(chunks) == 1:
        return chunks[0]
    first = chunks[0]
    ids = np.concatenate([c.ids for c in chunks])  # the widest id's width
    offsets = np.cumsum([0] + [len(c.low) for c in chunks[:-1]])
    indptr = np.concatenate([np.zeros(1, np.int64)] + [c.indptr[1:] + off
                                                       for c, off in zip(chunks, offsets, strict=True)])
    size = int(indptr[-1])
    low, high = _resized(first.low, size), _resized(first.high, size)
    for c, off in zip(chunks[1:], offsets[1:], strict=True):
        low[off:off + len(c.low)] = c.low
        high[off:off + len(c.high)] = c.high
    return Chunk(ids=ids, indptr=indptr, low=low, high=high)


def unpacked_features(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The feature numbers (int32) of packed entries."""
    return (high >> 4).astype(np.int32) << 16 | low


class ChunkFile:
    """A chunk file open for reading its entries a block of rows at a time (`packed_blocks`): its
    ids and row pointers are read at once, its entries never (at 1M papers 743 MB with the word
    pairs the matrix then drops). `open` gives None for a torn or foreign file."""

    def __init__(self, members: NpzMembers, ids: np.ndarray, indptr: np.ndarray):
        self._members, self.ids, self.indptr = members, ids, indptr

    @classmethod
    def open(cls, path: Path) -> ChunkFile | None:
        try:
            members = NpzMembers(path)
        except (OSError, ValueError, EOFError):
            return None
        try:
            return cls(members, *cls._checked(members))
        except (OSError, ValueError, KeyError, EOFError):
            members.close()
            return None

    @staticmethod
    def _checked(members: NpzMembers) -> tuple[np.ndarray, np.ndarray]:
        if set(members.members) != {"ids", "indptr", "low", "high"}:
            raise ValueError("not a chunk file")
        if members.dtype("ids").kind != "U" or members.shape("ids") != ():
            raise ValueError("ids")
        shape = {name: members.shape(name) for name in ("indptr", "low", "high")}
        if (members.dtype("indptr") != np.int64 or members.dtype("low") != np.uint16
                or members.dtype("high") != np.uint8 or any(len(s) != 1 for s in shape.values())
                or shape["low"] != shape["high"]):
            raise ValueError("arrays")
        ids = _stored_ids(members.read("ids"))
        indptr = members.read("indptr")
        if len(indptr) != len(ids) + 1 or indptr[0] != 0 or (np.diff(indptr) < 0).any() \
                or (len(ids) and int(indptr[-1]) != shape["low"][0]):
            raise ValueError("row pointers")
        return ids, indptr

    def packed(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        return self._members.read("low", start, stop), self._members.read("high", start, stop)

    def read(self) -> Chunk:
        """All of it in memory (small files: compaction)."""
        low, high = self.packed(0, int(self.indptr[-1]))
        return Chunk(ids=self.ids, indptr=self.indptr, low=low, high=high)

    def close(self) -> None:
        self._members.close()


def _stored_ids(stored: np.ndarray) -> np.ndarray:
    """The ids of a file's one string of ids joined by newlines (numpy keeps it as 4 bytes a
    character) as a fixed-width bytes array; ASCII ids without a str of them all."""
    codes = stored.reshape(1).view(f"{stored.dtype.str[0]}u4")
    if codes.max(initial=0) >= 128:
        return id_bytes(str(stored).encode(), "\n")
    end = len(codes)
    while end and codes[end - 1] == 0:  # numpy pads a string with NULs (only an empty one here)
        end -= 1
    return id_bytes(codes[:end].astype(np.uint8).tobytes(), "\n")


def _ids_text(ids: np.ndarray) -> np.ndarray:
    """The ids joined by newlines as one numpy string (what the files keep), made from their bytes
    (ASCII ids: no str of them all)."""
    blob = np.frombuffer(b"\n".join(ids.tolist()), dtype=np.uint8)
    if not len(blob) or blob.max() >= 128:
        return np.asarray(blob.tobytes().decode())
    return blob.astype("<u4").view(f"<U{len(blob)}").reshape(())


def packed_blocks(source: Chunk | ChunkFile) -> Iterable[tuple[int, int, np.ndarray, np.ndarray]]:
    """(first row, row stop, low parts, high parts) for each block of rows of a chunk or file."""
    ptr = source.indptr
    for r0 in range(0, len(source.ids), BLOCK_ROWS):
        r1 = min(r0 + BLOCK_ROWS, len(source.ids))
        yield r0, r1, *source.packed(int(ptr[r0]), int(ptr[r1]))


def append_kept(entries: EntryFiles, source: Chunk | ChunkFile, dropped: np.ndarray) -> np.ndarray:
    """Appends the source's entries of features not dropped to `entries`, a block of rows at a
    time; returns each row's number of them."""
    lengths = np.empty(len(source.ids), dtype=np.int64)
    for r0, r1, low, high in packed_blocks(source):
        keep = ~dropped[unpacked_features(low, high)]
        entries.append(low[keep], high[keep])
        lengths[r0:r1] = segment_sums(keep.astype(np.int64), source.indptr[r0:r1 + 1] - source.indptr[r0])
    return lengths


# Sublinear tf (1 + log count), by count.
LOG_TF = (1 + np.log(np.maximum(np.arange(MAX_COUNT + 1, dtype=np.float32), 1))).astype(np.float32)
# By an entry's high byte: its feature number's 4 high bits in place, and its sublinear tf.
_HIGH_BITS = (np.arange(256, dtype=np.intp) >> 4) << 16
_TF_OF_HIGH = LOG_TF[np.arange(256) & MAX_COUNT]


def segment_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """The sum of each CSR row's values (0 for an empty row)."""
    if len(indptr) < 2:
        return np.zeros(0, dtype=values.dtype)
    # One zero appended, so a trailing empty row's start is still a valid index for reduceat.
    sums = np.add.reduceat(np.append(values, values.dtype.type(0)), indptr[:-1])
    return np.where(np.diff(indptr) > 0, sums, 0)


# The document frequency of a feature out of a live cache's matrix for good: too common, or too rare
# when rows were added without it (a fresh load decides anew from the files, which keep every feature).
OUT = -1


def pairs_kept(n: int) -> bool:
    """Whether the matrix of n papers has word pairs (PAIRS_UP_TO)."""
    return n <= PAIRS_UP_TO


def _dropped_by_df(df: np.ndarray, n: int) -> np.ndarray:
    """Which of these document frequencies are of features out of the matrix of n papers."""
    return (df < MIN_DF) if n >= MIN_DF_PAPERS else (df == OUT)


def _dropped(df: np.ndarray, n: int) -> np.ndarray:
    """Which features (df: of all DIM) are out of the matrix of n papers: by their document
    frequency, and past PAIRS_UP_TO papers every word pair."""
    out = _dropped_by_df(df, n)
    if not pairs_kept(n):
        out[PAIRS:] = True
    return out


def read_texts(conn: sqlite3.Connection, ids: Sequence[str]) -> list[tuple]:
    """(id, title, abstract, organization, authors JSON) of these papers, for `build_chunk`."""
    sql = f"SELECT id, title, abstract, organization, authors FROM papers WHERE id IN {IDS}"
    return [(pid, title, abstract_text.decode(abstract), org, authors)
            for pid, title, abstract, org, authors in conn.execute(sql, (id_array(ids),))]


def _listed_ids(conn: sqlite3.Connection, step: int = 50_000) -> np.ndarray:
    """SQLite's papers' ids as a bytes array, in the order `SELECT id FROM papers` lists them (the
    order papers are featurised in, which the model's sample of rows depends on), a step at a time:
    never a str object per paper at once."""
    cursor = conn.execute("SELECT id FROM papers")
    parts = [encoded_ids([])]
    while rows := cursor.fetchmany(step):
        parts.append(encoded_ids([pid for (pid,) in rows]))
    return np.concatenate(parts)


# Papers are made only by operations, each new row journalled with no prior state (store.py; an
# undone import's redo makes them again and takes a new stamp): when no operation since the last
# listing made one, there is nothing new to featurise (a star or an archive at 1M papers listed
# every id again: ~1.5 s of a retraining, and all ids in memory at once).
_PAPERS_MADE_SINCE = """SELECT EXISTS (SELECT 1 FROM operations o WHERE o.stamp > ? AND EXISTS (
    SELECT 1 FROM op_rows r WHERE r.op_id = o.id AND r.tbl = 'papers' AND r.before IS NULL))"""


def _newest_stamp(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(stamp), 0) FROM operations").fetchone()[0]


def _changes(conn: sqlite3.Connection) -> tuple[int, int]:
    """What moves when papers may have been added: another connection's commits change
    `data_version`, this connection's writes its `total_changes`."""
    return conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes


def _database_path(conn: sqlite3.Connection) -> str:
    return next(row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main")


def featurise_in_child(db_path: str, folder: Path, ids: np.ndarray, progress: Progress | None) -> int:
    """Featurise these papers (a fixed-width bytes array of their ids) in a spawned process that
    writes them as one chunk file into `folder`; returns how many (0 when it failed: the caller
    featurises them itself). The ids go to the child as one bytes object: a list of 1M str was
    pickled in one call that held the GIL for ~180 ms (a stall of the desk at its first ranking).

    Why a process: featurising 100k papers is ~13 s of Python and numpy; on a thread it would take
    the GIL from the desk's GUI thread at every switch, and its long numpy steps (merging 50 chunks
    of 2000 papers, ~78 MB) would hold it for 100+ ms at a time. The child's memory goes with it."""
    import multiprocessing
    import queue

    from paperdesk.core.children import start_spawned

    if not db_path:  # an in-memory database: nothing a child could read
        return 0
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    proc = context.Process(target=_featurise_worker, daemon=True,
                           args=(db_path, str(folder), ids.tobytes(), ids.dtype.itemsize, out))
    made = 0
    try:
        start_spawned([proc])
        while True:
            try:
                kind, value = out.get(timeout=1.0)
            except queue.Empty:
                if proc.exitcode is not None:
                    return 0  # it died before saying so: featurise here
                continue
            if kind == "progress":
                if progress:
                    progress(value, len(ids), "reading papers for ranking")
            elif kind == "done":
                made = value
                break
            else:
                print(f"featurising in a child process failed: {value}", file=sys.stderr)
                return 0
        proc.join()
    finally:
        if proc.pid is not None and proc.is_alive():
            proc.terminate()
            proc.join()
        out.close()
        out.join_thread()
    return made


def _featurise_worker(db_path: str, folder: str, raw_ids: bytes, width: int, out: Any) -> None:
    from paperdesk.core.children import die_with_parent

    die_with_parent()
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        hasher = Hasher()
        # The entries go to unnamed files as they are made and into the chunk file a piece at a
        # time: at 1M papers growing them in memory peaked at 1,049 MB (743 MB of entries).
        entries = EntryFiles(Path(folder), ENTRY_TYPES)
        done_ids, indptr = [], [np.zeros(1, np.int64)]
        ids = np.frombuffer(raw_ids, dtype=f"S{width}")
        for start in range(0, len(ids), CHUNK_PAPERS):
            chunk = build_chunk(read_texts(conn, decoded_ids(ids[start:start + CHUNK_PAPERS])), hasher)
            indptr.append(chunk.indptr[1:] + entries.size)
            entries.append(chunk.low, chunk.high)
            done_ids.append(chunk.ids)
            out.put(("progress", min(start + CHUNK_PAPERS, len(ids))))
        conn.close()
        cache = FeatureCache(Path(folder).parent)
        cache._write_entries(np.concatenate(done_ids), np.concatenate(indptr), entries.read)  # one file
        entries.close()
        out.put(("done", len(ids)))
    except BaseException as exc:  # the parent says so and featurises here
        out.put(("error", f"{type(exc).__name__}: {exc}"))


class FeatureCache:
    """The library's papers as rows of one CSR matrix, kept in step with SQLite on `refresh()`."""

    def __init__(self, folder: Path):
        self.dir = folder / "rank"
        self.hasher = Hasher()
        self.matrix = empty_chunk()
        self.row_of = RowIndex(self.matrix.ids)
        self._loaded: set[str] = set()   # chunk file names already in the matrix
        # tf-idf values are made from the counts when needed (a float per entry would more than
        # double the memory), idf from the document frequencies (`idf`); each row's L2 norm is kept.
        self.norms = np.ones(0, dtype=np.float32)
        # Papers with each feature (files read so far), OUT for one out of the matrix for good.
        self.df = np.zeros(DIM, dtype=np.int32)
        self._entries: EntryFiles | None = None  # where the matrix's low and high parts are kept
        self._kept_without = np.zeros(DIM, dtype=bool)  # the features dropped when rows were last added
        self._scattered = 0  # bytes of pages `entries` may have touched since the matrix's were let go
        self._compared: tuple[int, int] | None = None  # SQLite's `_changes` when papers were last listed
        self._listed_at: int | None = None  # the newest operation's stamp then

    # -- disk -------------------------------------------------------------------------------
    def _chunk_files(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob(f"v{CACHE_VERSION}-*.npz"))

    def _drop_old_versions(self) -> None:
        """Chunks of an earlier format are featurised again; their files only take space. So do
        what crashed processes left: a chunk file half written an hour ago or more (a younger one
        may be another process's, being written), and matrix files that got a name (where the
        system has no unnamed files: Windows; one open elsewhere cannot be deleted and stays)."""
        if not self.dir.is_dir():
            return
        for path in self.dir.glob("v*-*.npz"):
            if not path.name.startswith(f"v{CACHE_VERSION}-"):
                path.unlink(missing_ok=True)
        stale = time.time() - STALE_SECONDS
        for path in [*self.dir.glob(".v*-*.npz.tmp"), *self.dir.glob(".matrix-*")]:
            try:
                if path.name.startswith(".matrix-") or path.stat().st_mtime < stale:
                    path.unlink()
            except OSError:
                pass

    def _write(self, chunk: Chunk, name: str | None = None) -> str:
        parts = (chunk.low, chunk.high)
        return self._write_entries(chunk.ids, chunk.indptr, lambda i, start, stop: parts[i][start:stop], name)

    def _write_entries(self, ids: np.ndarray, indptr: np.ndarray,
                       entries: Callable[[int, int, int], np.ndarray], name: str | None = None) -> str:
        """A chunk file of these rows, their entries' low (0) and high (1) parts read by
        `entries(part, start, stop)` a piece at a time (what np.savez writes, never all at once)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        name = name or f"v{CACHE_VERSION}-{uuid.uuid4().hex}.npz"
        tmp = self.dir / f".{name}.tmp"
        size = int(indptr[-1])

        def pieces(part: int) -> Iterable[np.ndarray]:
            for start in range(0, size, WRITE_ENTRIES):
                yield entries(part, start, min(start + WRITE_ENTRIES, size))

        text = _ids_text(ids)
        arrays = {"ids": (text.dtype, (), [text]), "indptr": (np.int64, (len(indptr),), [indptr]),
                  "low": (np.uint16, (size,), pieces(0)), "high": (np.uint8, (size,), pieces(1))}
        try:
            with open(tmp, "wb") as fh:
                write_npz(fh, arrays)
            os.replace(tmp, self.dir / name)
        except BaseException:  # (a full disk: a partial file of hundreds of MB must not stay)
            tmp.unlink(missing_ok=True)
            raise
        return name

    @staticmethod
    def _read(path: Path) -> Chunk | None:
        """A chunk file in memory, None for a torn or foreign one (its papers are featurised again)."""
        stored = ChunkFile.open(path)
        if stored is None:
            return None
        try:
            return stored.read()
        except (OSError, ValueError):
            return None
        finally:
            stored.close()

    # -- keeping in step ----------------------------------------------------------------------
    def refresh(self, conn: sqlite3.Connection, progress: Progress | None = None) -> int:
        """Read new chunk files, featurise papers no chunk has, and recompute tf-idf. Returns
        the number of papers featurised here (or by the child process it started)."""
        if not self._loaded:
            self._drop_old_versions()
        new: list[Chunk | ChunkFile] = []
        try:
            return self._refresh(conn, new, progress)
        finally:
            for source in new:
                if isinstance(source, ChunkFile):
                    source.close()

    def _refresh(self, conn: sqlite3.Connection, new: list[Chunk | ChunkFile],
                 progress: Progress | None) -> int:
        new += self._read_new_files()
        changes = _changes(conn)
        if not new and changes == self._compared:
            return 0  # nothing written to SQLite since: no paper to featurise (listing 100k ids: ~30 ms)
        stamp = _newest_stamp(conn)
        if not new and self._listed_at is not None and \
                not conn.execute(_PAPERS_MADE_SINCE, (self._listed_at,)).fetchone()[0]:
            self._compared, self._listed_at = changes, stamp  # written, but no paper made: nothing to list
            return 0
        missing = self._not_in(_listed_ids(conn), new)
        made = 0
        if len(missing) >= CHILD_PAPERS:
            made = featurise_in_child(_database_path(conn), self.dir, missing, progress)
            if made:
                new += self._read_new_files()
                missing = self._not_in(missing, new)
        missing = decoded_ids(missing)
        for start in range(0, len(missing), CHUNK_PAPERS):
            part = missing[start:start + CHUNK_PAPERS]
            chunk = build_chunk(read_texts(conn, part), self.hasher)
            self._loaded.add(self._write(chunk))
            new.append(chunk)
            made += len(part)
            if progress:
                progress(made, made + len(missing) - start - len(part), "reading papers for ranking")
        if new:
            self._add(new)
            if len(self._loaded) > MAX_CHUNKS:
                self._compact()
            del missing
            release_freed_memory()
        self._compared, self._listed_at = changes, stamp
        return made

    def _not_in(self, ids: np.ndarray, new: Sequence[Chunk | ChunkFile]) -> np.ndarray:
        """Those of these ids (in their order) neither in the matrix nor in the new chunks."""
        keep = self.row_of.find(ids) < 0
        if new and keep.any():
            keep &= RowIndex(np.concatenate([c.ids for c in new])).find(ids) < 0
        return ids[keep]

    def _read_new_files(self) -> list[ChunkFile]:
        """The chunk files not in the matrix yet, open (their ids and row pointers read)."""
        new = []
        for path in self._chunk_files():
            if path.name in self._loaded:
                continue
            stored = ChunkFile.open(path)
            self._loaded.add(path.name)
            if stored is not None:
                new.append(stored)
        return new

    def _add(self, new: list[Chunk | ChunkFile]) -> None:
        """New rows join the matrix without the features common or rare enough to drop (DROP_DF,
        MIN_DF). Document frequencies count every feature, dropped or not (4 MB). A feature out of
        the rows already in stays out of this cache's matrix (OUT): one dropped as common even if
        later papers make it rarer again, one dropped as rare even if later papers have it too
        (else only their rows would have it; the files keep every feature: a fresh load decides
        anew for all rows).

        Two passes over the new rows, a block at a time: their document frequencies, then their
        kept entries appended to the matrix's files (`EntryFiles`); nothing holds a whole chunk
        file's entries (at 1M papers that peaked at 959 MB). The rows already in are written again
        only when a feature they may have is newly dropped (past PAIRS_UP_TO, or a word grown
        common); a day's new papers are appended."""
        df = self.df
        if len(self.matrix.ids) >= MIN_DF_PAPERS:
            df[(df > 0) & (df < MIN_DF)] = OUT
        for source in new:
            for _r0, _r1, low, high in packed_blocks(source):
                counts = np.bincount(unpacked_features(low, high), minlength=DIM)
                np.add(df, counts, out=df, where=df >= 0, casting="unsafe")  # OUT stays OUT
        n = len(self.matrix.ids) + sum(len(s.ids) for s in new)
        if n >= MIN_DF_PAPERS:
            df[df > DROP_DF * n] = OUT
        dropped = _dropped(df, n)
        sources: list[Chunk | ChunkFile] = [s for s in new if len(s.ids)]
        if self._entries is None or (dropped & ~self._kept_without).any():
            sources = [self.matrix, *sources]
            entries = EntryFiles(self._entries_folder(), ENTRY_TYPES)
            ids, indptr = [], [np.zeros(1, np.int64)]
        else:
            ids, indptr, entries = [self.matrix.ids], [self.matrix.indptr], self._entries
        for source in sources:
            start = entries.size
            ids.append(source.ids)
            indptr.append(np.cumsum(append_kept(entries, source, dropped)) + start)
        if entries is not self._entries and self._entries is not None:
            self._entries.close()
        self._entries, self._kept_without = entries, dropped
        low, high = entries.arrays()
        self._set_matrix(Chunk(ids=np.concatenate(ids), indptr=np.concatenate(indptr), low=low, high=high))

    def _entries_folder(self) -> Path | None:
        """Where the matrix's entries are kept: files of this process in the cache's folder, None
        (anonymous memory) with MAP_ENTRIES off."""
        return self.dir if MAP_ENTRIES else None

    def _compact(self) -> None:
        """Many small chunk files (daily imports) become one; the biggest file is left as it is.
        Files, not the matrix, are merged: the matrix lacks the dropped features."""
        files = self._chunk_files()
        if len(files) < 2:
            return
        biggest = max(files, key=lambda path: path.stat().st_size)
        small = [path for path in files if path != biggest]
        chunks = [c for c in (self._read(path) for path in small) if c is not None and len(c.ids)]
        name = self._write(merge_chunks(chunks)) if chunks else None
        for path in small:
            path.unlink(missing_ok=True)
        self._loaded = {biggest.name} | ({name} if name else set())

    @property
    def dropped(self) -> np.ndarray:
        """Features papers have that are out of the matrix (too common or too rare)."""
        return _dropped(self.df, len(self.matrix.ids)) & (self.df != 0)

    def idf(self, idx: np.ndarray | None = None) -> np.ndarray:
        """The idf of these features (of all with None): smooth, halved over COMMON_DF, a third for
        a word pair (0 past PAIRS_UP_TO papers), 0 for a dropped feature. Made when needed from the
        document frequencies (a float per feature kept would be another 4 MB)."""
        df = self.df if idx is None else self.df[idx]
        n = len(self.matrix.ids)
        out = np.log(np.float32(n + 1) / (np.maximum(df, 0) + 1).astype(np.float32)) + np.float32(1)
        if n >= MIN_DF_PAPERS:
            out[df > COMMON_DF * n] *= COMMON_WEIGHT
        pair_weight = PAIR_WEIGHT if pairs_kept(n) else 0
        if idx is None:
            out[PAIRS:] *= pair_weight
        else:
            out[idx >= PAIRS] *= pair_weight
        out[_dropped_by_df(df, n)] = 0
        return out

    def _set_matrix(self, m: Chunk) -> None:
        # A paper featurised twice (two processes at once) keeps its last row; that is harmless.
        self.matrix = m
        self.row_of = RowIndex(m.ids)
        n = len(m.ids)
        idf = self.idf()
        self.norms = np.empty(n, dtype=np.float32)
        released = 0
        for r0, r1, idx, counts in m.blocks():
            values = LOG_TF[counts] * idf[idx]
            sums = segment_sums(values * values, m.indptr[r0:r1 + 1] - m.indptr[r0])
            self.norms[r0:r1] = np.sqrt(np.maximum(sums, 1e-12))
            released = self._passed(released, int(m.indptr[r1]))
        self.release_pages()

    def release_pages(self, start: int = 0, stop: int | None = None) -> None:
        """The mapped pages of entries start:stop leave the process's resident memory and stay in
        the page cache (`EntryFiles.release`): after each pass over the whole matrix, and along
        it, so neither a pass nor the time between retrainings holds the matrix (1M papers: 336 MB)."""
        if self._entries is not None:
            self._entries.release(start, stop)
        self._scattered = 0

    def _passed(self, released: int, entry: int) -> int:
        """A pass over the matrix in entry order is at `entry`: the pages behind it go once they
        are RELEASE_ENTRIES. Returns where the pages kept start."""
        if entry - released < RELEASE_ENTRIES:
            return released
        self.release_pages(released, entry)
        return entry

    # -- reading ------------------------------------------------------------------------------
    def rows(self, ids: Sequence[str]) -> np.ndarray:
        """Row numbers of these papers (-1 for a paper not featurised). The ids are encoded a
        slice at a time (`encoded_in_slices`), then looked up all at once (numpy sorts and searches
        byte strings with the GIL released; sorted keys search fastest)."""
        return self.row_of.find(encoded_in_slices(ids)) if len(ids) else np.empty(0, dtype=np.int64)

    def row(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        idx, counts = self.matrix.unpack(int(self.matrix.indptr[r]), int(self.matrix.indptr[r + 1]))
        return idx, LOG_TF[counts] * self.idf(idx) / self.norms[r]

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A sub-matrix (indptr, indices, values) of these rows, in this order."""
        ptr = self.matrix.indptr
        lengths = ptr[rows + 1] - ptr[rows]
        indptr = np.concatenate([np.zeros(1, np.int64), np.cumsum(lengths)])
        if indptr[-1] == 0:
            return indptr, np.empty(0, np.int32), np.empty(0, np.float32)
        idx, high = self.entries(rows, lengths)
        values = np.take(_TF_OF_HIGH, high) * self.idf(idx) / np.repeat(self.norms[rows], lengths)
        return indptr, idx, values

    def entries(self, rows: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The feature numbers (intp) and high bytes of these rows' entries, in this order;
        `lengths` are the rows' entry counts. Read SCATTERED_ROWS rows at a time from a mapped
        matrix, so that the pages they map can go between (below)."""
        if len(rows) > SCATTERED_ROWS and self._entries is not None and self._entries.mapped:
            parts = [self.entries(rows[at:at + SCATTERED_ROWS], lengths[at:at + SCATTERED_ROWS])
                     for at in range(0, len(rows), SCATTERED_ROWS)]
            return np.concatenate([idx for idx, _ in parts]), np.concatenate([high for _, high in parts])
        starts = self.matrix.indptr[rows]
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        offsets += np.arange(len(offsets))
        high = np.take(self.matrix.high, offsets)
        idx = np.take(_HIGH_BITS, high)
        idx |= np.take(self.matrix.low, offsets)
        # Rows here and there (a fit's training rows): a row read maps up to FAULT_AROUND bytes of
        # each array around it (the kernel's fault-around); the pages go once they could be
        # RELEASE_ENTRIES' worth (1M papers: 1024 training rows at a time took the first
        # ranking's peak from 247 MB, the load's, to 375).
        self._scattered += 2 * len(rows) * FAULT_AROUND
        if self._scattered >= 3 * RELEASE_ENTRIES:
            self.release_pages()
        return idx, high

    def score_all(self, weights: np.ndarray) -> np.ndarray:
        """weights · row for every row, a block of rows at a time. The hot loop of ranking (100k
        papers: ~25M entries): each entry's high byte is decoded by table lookups (its feature
        number's high bits, its tf), and `np.take` gathers (fancy indexing cast the indices first)."""
        m = self.matrix
        out = np.empty(len(m.ids), dtype=np.float32)
        per_feature = (weights * self.idf()).astype(np.float32)
        released = 0
        for r0 in range(0, len(m.ids), SCORE_ROWS):
            r1 = min(r0 + SCORE_ROWS, len(m.ids))
            a, b = int(m.indptr[r0]), int(m.indptr[r1])
            high = m.high[a:b]
            idx = np.take(_HIGH_BITS, high)
            idx |= m.low[a:b]
            values = np.take(per_feature, idx)
            values *= np.take(_TF_OF_HIGH, high)
            out[r0:r1] = segment_sums(values, m.indptr[r0:r1 + 1] - a)
            released = self._passed(released, b)
        self.release_pages()
        return out / self.norms
