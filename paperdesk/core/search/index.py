"""The Whoosh index in `<library>/index/`: derived from SQLite, rebuilt whenever in doubt.

Writes come only from the `index_queue` table (filled by library changes in their own
transaction): `drain()` indexes the queued papers, commits Whoosh, and only then removes the
queue rows it handled (by their `seq`: a paper queued again meanwhile has a higher one and
stays), so after a crash anywhere the queue is simply drained again.

Every write (a drain, a build) holds `<library>/index.lock` (an OS lock, gone with its process),
so two processes never write the index at once; the stray files of a write that failed (a full
disk, a kill) are removed under that lock. `PAPERDESK_INDEX_STATE` holds the highest queue seq
the index has taken in: `agrees()` compares it with the library's without opening Whoosh.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import shutil
import sqlite3
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperdesk.core.library import LibraryError, write_transaction
from paperdesk.core.search import parallel, sidecar, whoosh_internals, word_order
from paperdesk.core.search.decisions import Decisions
from paperdesk.core.search.documents import all_paper_ids, load_documents, paper_count, rowid_ranges
from paperdesk.core.search.fields import INDEX_DIRNAME, INDEX_VERSION, make_schema, open_index, to_fields
from paperdesk.core.store import enqueue_index

if TYPE_CHECKING:
    import numpy as np

    from paperdesk.core.view_filter import ViewFilter

log = logging.getLogger(__name__)

_VERSION_FILE = "PAPERDESK_INDEX_VERSION"
_STATE_FILE = "PAPERDESK_INDEX_STATE"  # the highest index_queue seq taken in (see agrees())
_LOCK_FILE = "index.lock"  # beside index/, which a build replaces
_WRITER_FILE = "PAPERDESK_INDEX_WRITER"  # which path wrote it (whoosh_internals.writer_tag)
_OWN_FILES = {_VERSION_FILE, _STATE_FILE, _WRITER_FILE}
_BATCH = 1000

Progress = Callable[[int, int, str], None]


class IndexBusy(LibraryError):
    """Another process is rebuilding the index; the message is meant for the user."""


def issued_seq(conn: sqlite3.Connection) -> int:
    """The highest seq the library has ever given a queue row (AUTOINCREMENT's counter)."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'index_queue'").fetchone()
    return int(row[0]) if row else 0


class _FileLock:
    """An exclusive OS lock on a file holding the owner's pid (released when the process dies,
    whatever the file says). Re-entrant within one SearchIndex."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None
        self._depth = 0

    def acquire(self, wait: bool) -> bool:
        if self._depth:
            self._depth += 1
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _lock_fd(fd, wait):
                os.close(fd)
                return False
            with contextlib.suppress(OSError):  # the pid is only for messages
                os.ftruncate(fd, 0)
                os.write(fd, str(os.getpid()).encode())
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._depth = fd, 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing releases the lock

    def owner(self) -> str:
        try:
            return self.path.read_text(encoding="ascii", errors="replace").strip() or "?"
        except OSError:
            return "?"


def _lock_fd(fd: int, wait: bool) -> bool:
    if os.name == "nt":
        import msvcrt

        mode = msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK  # LK_LOCK retries for ~10 s
        while True:
            try:
                msvcrt.locking(fd, mode, 1)
                return True
            except OSError:
                if not wait:
                    return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


class SearchIndex:
    """The library's search index; opened (and if needed rebuilt) on first use."""

    def __init__(self, folder: Path, conn: sqlite3.Connection):
        self.dir = folder / INDEX_DIRNAME
        self.conn = conn
        self.messages: list[str] = []  # for the user: why the index was rebuilt, etc.
        self._ix: Any = None
        self._searcher: Any = None
        self._view: Any = None  # evaluator.IndexView of `_searcher`
        self._decisions = Decisions(conn)
        self._lock = _FileLock(folder / _LOCK_FILE)
        # Whoosh's internals when the installed version is one they were written for; else its
        # public writer and matchers only (whoosh_internals.py).
        self.fast = whoosh_internals.usable()

    @contextlib.contextmanager
    def _writing(self, wait: bool) -> Any:
        """Hold the index lock (yields False, holding nothing, if another process has it and
        `wait` is False)."""
        held = self._lock.acquire(wait)
        try:
            yield held
        finally:
            if held:
                self._lock.release()

    # -- opening --------------------------------------------------------------------------------
    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / INDEX_DIRNAME / _VERSION_FILE).is_file()

    @staticmethod
    def current(folder: Path) -> bool:
        """An index of this version, written by the path this process takes (Whoosh's internals
        or the stock path), is on disk: opening it rebuilds nothing unless it is damaged."""
        found = folder / INDEX_DIRNAME
        return _read(found / _VERSION_FILE) == INDEX_VERSION and \
            _read(found / _WRITER_FILE) == whoosh_internals.writer_tag(whoosh_internals.usable())

    @property
    def ix(self) -> Any:
        if self._ix is None:
            self._ix = self._open()
        return self._ix

    def take_messages(self) -> list[str]:
        messages, self.messages = self.messages, []
        return messages

    def _note(self, message: str) -> None:
        log.info(message)
        self.messages.append(message)

    def _open(self, progress: Progress | None = None) -> Any:
        opened = self._open_existing()
        if not isinstance(opened, str | None):
            return opened
        # Another process may be building it: wait for it, then use its index if it is good.
        with self._writing(wait=True):
            opened = self._open_existing()
            if isinstance(opened, str | None):
                return self._build(progress, reason=opened)
            return opened

    def _open_existing(self) -> Any:
        """The opened index; or why it must be built (None: there is none yet)."""
        version_file = self.dir / _VERSION_FILE
        if not self.dir.exists():
            return None
        if not version_file.is_file():
            return "the search index was missing or incomplete"
        if version_file.read_text(encoding="utf-8", errors="replace").strip() != INDEX_VERSION or \
                _read(self.dir / _WRITER_FILE) != whoosh_internals.writer_tag(self.fast):
            return "the search index was made by another version"
        # Whoosh leaves files open when it fails on a damaged index: they close (quietly) here.
        # Only then: a full collection at 100k papers holds the GIL ~50 ms, on the desk's reader.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            opened = self._try_open()
            if isinstance(opened, str):
                gc.collect()
        return opened

    def _try_open(self) -> Any:
        """The opened index, or why it cannot be used."""
        from whoosh import index

        try:
            if not index.exists_in(str(self.dir)):
                return "the search index was missing or incomplete"
            ix = open_index(self.dir)
            with ix.searcher() as searcher:  # touch every segment once
                searcher.doc_count()
                # The first id term of each segment (a whole lexicon would be 100k terms: 3 s).
                next(iter(searcher.reader().lexicon("id")), None)
            # Phrases in abstracts and PDF texts (no positions) are found only in these files.
            # and every posting list the evaluator reads, in the postings files.
            if self.fast and any(not _word_order_there(self.dir, segment) or
                                 sidecar.sidecar_for(self.dir, segment) is None
                                 for segment in whoosh_internals.segment_ids(ix)):
                ix.close()
                return "the search index was missing or incomplete"
        except Exception as exc:  # any damage at all: the index is derived, so rebuild it
            return f"the search index was unreadable ({type(exc).__name__})"
        return ix

    def _build(self, progress: Progress | None, reason: str | None) -> Any:
        """Build a fresh index beside the old one, then swap it in (holding the index lock)."""
        from whoosh import index

        self.close()
        total = paper_count(self.conn)
        if reason:
            self._note(f"{reason}; rebuilding it from the library ({total} papers)")
        # Read before the papers: a change after it gets a higher seq and stays queued.
        issued = issued_seq(self.conn)
        snapshot = self.conn.execute("SELECT paper_id, seq FROM index_queue WHERE seq <= ?",
                                     (issued,)).fetchall()
        fresh = self.dir.with_name(INDEX_DIRNAME + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        ix = index.create_in(str(fresh), make_schema(stock=not self.fast))
        try:
            self._write_all(ix, total, progress)
        except BaseException:
            ix.close()
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        ix.close()
        try:
            (fresh / _VERSION_FILE).write_text(INDEX_VERSION + "\n", encoding="utf-8")
            (fresh / _WRITER_FILE).write_text(whoosh_internals.writer_tag(self.fast) + "\n", encoding="utf-8")
            _write_state(fresh, issued)
        except BaseException:
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        old = self.dir.with_name(INDEX_DIRNAME + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.dir.exists():
            self.dir.rename(old)
        fresh.rename(self.dir)
        shutil.rmtree(old, ignore_errors=True)
        self._forget_queue(snapshot)
        if progress:
            progress(total, total, "")
        return open_index(self.dir)

    def _write_all(self, ix: Any, total: int, progress: Progress | None) -> None:
        """Every paper into the fresh index: in several processes for a large library."""
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if progress:
                progress(min(done, total), total, "indexing")

        db_path = next((row[2] for row in self.conn.execute("PRAGMA database_list") if row[1] == "main"), "")
        workers = parallel.workers_for(total) if db_path and not self.conn.in_transaction and self.fast else 1
        if workers > 1:
            parallel.build_segments(ix, db_path, rowid_ranges(self.conn, workers), limitmb=256,
                                    progress=advance)
            return
        writer = self._writer(ix, limitmb=256)
        try:
            for ids in all_paper_ids(self.conn):
                for doc in load_documents(self.conn, ids).values():
                    writer.add_document(**to_fields(doc))
                advance(len(ids))
            writer.commit()
        except BaseException:
            writer.cancel()
            raise

    def rebuild(self, progress: Progress | None = None) -> int:
        """Rebuild from scratch; returns the number of papers indexed. Raises IndexBusy if another
        process is writing the index (two rebuilds at once would undo each other's work)."""
        with self._writing(wait=False) as held:
            if not held:
                raise IndexBusy(f"another PaperDesk (process {self._lock.owner()}) is writing the "
                                "search index; try again when it is done")
            self._ix = self._build(progress, reason=None)
        return self.doc_count()

    def close(self) -> None:
        self._view = None
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        if self._ix is not None:
            self._ix.close()
            self._ix = None

    # -- the queue ------------------------------------------------------------------------------
    def _forget_queue(self, rows: list[tuple[str, int]]) -> None:
        """Remove handled queue rows (paper id, seq), unless queued again meanwhile (a new seq)."""
        if not rows:
            return
        with self._transaction():
            self.conn.executemany("DELETE FROM index_queue WHERE paper_id = ? AND seq <= ?", rows)

    def agrees(self) -> bool:
        """Cheaply (no Whoosh): has the index taken in every change the library queued? False
        when it keeps no record (an older index), when the library is older than the index (a
        backup put back), or when the library queued changes that are neither indexed nor
        queued. A drain then compares the two in full (`check`) before draining."""
        try:
            taken = int((self.dir / _STATE_FILE).read_text(encoding="ascii"))
        except (OSError, ValueError):
            return False
        issued = issued_seq(self.conn)
        if issued < taken:
            return False
        queued = self.conn.execute("SELECT 1 FROM index_queue LIMIT 1").fetchone() is not None
        return issued == taken or queued

    def _take_in(self, seq: int, *, checked: bool = False) -> None:
        """Record that every queued change up to `seq` is in the index: after a drain, if higher
        than the record; after a full check, whatever it was (a library put back from a backup
        has a lower seq)."""
        with contextlib.suppress(OSError):  # unrecorded: the next drain checks in full
            try:
                taken = int((self.dir / _STATE_FILE).read_text(encoding="ascii"))
            except (OSError, ValueError):
                taken = None
            if taken is None or seq > taken or (checked and seq != taken):
                _write_state(self.dir, seq)

    def pending(self) -> int:
        return self.conn.execute("SELECT count(*) FROM index_queue").fetchone()[0]

    def drain(self, progress: Progress | None = None, limit: int | None = None) -> int:
        """Index every queued paper (the `limit` oldest, if given); returns how many were handled
        (0 if another process writes the index: the queue stays and the next drain does it).
        A whole drain (no `limit`) first repairs an index that does not agree with the library."""
        if self._ix is None and not self.exists(self.dir.parent):
            self._ix = self._open(progress)  # builds the index (with progress), emptying the queue
        if limit is None and not self.agrees():
            self.ix  # noqa: B018 (opening may rebuild, which leaves it agreeing)
            if not self.agrees():
                report = self.check(repair=True, progress=progress)
                drifted = len(report["missing"]) + len(report["stale"]) + len(report["orphan"])
                if drifted:
                    self._note(f"the search index differed from the library in {drifted} papers; "
                               "they were indexed again")
                return report["repaired"]
        if self.conn.execute("SELECT 1 FROM index_queue LIMIT 1").fetchone() is None:
            return 0
        with self._writing(wait=False) as held:
            if not held:
                self._note("the search index is being written by another PaperDesk; it will catch up")
                return 0
            return self._drain(progress, limit)

    def _drain(self, progress: Progress | None, limit: int | None) -> int:
        """Index the `limit` oldest queued papers (all if None), holding the index lock."""
        from whoosh.index import LockError

        ix = self.ix  # may rebuild, which empties the queue
        self._remove_strays(ix)  # what a failed or killed write left takes space: it goes first
        rows = self.conn.execute("SELECT paper_id, seq FROM index_queue ORDER BY seq LIMIT ?",
                                 (-1 if limit is None else limit,)).fetchall()
        if not rows:
            return 0
        try:
            writer = self._writer(ix)
        except LockError:  # an older PaperDesk writing without our lock
            self._note("the search index is being written by another PaperDesk; it will catch up")
            return 0
        try:
            for i in range(0, len(rows), _BATCH):
                ids = [r[0] for r in rows[i:i + _BATCH]]
                docs = load_documents(self.conn, ids)
                # Whoosh's update_document looks each id up in every segment through a query; a
                # day's new papers are in none, so the batch's ids are looked up once, in bulk.
                for docnum in indexed_docnums(writer, ids):
                    writer.delete_document(docnum)
                for pid in ids:
                    if pid in docs:
                        writer.add_document(**to_fields(docs[pid]))
                if progress:
                    progress(min(i + _BATCH, len(rows)), len(rows), "indexing")
            writer.commit(mergetype=merge_small_segments)  # only segments of <= MERGE_ON_DRAIN
        except BaseException:
            with contextlib.suppress(Exception):  # cancelling writes too (on a full disk it fails)
                writer.cancel()
            self._remove_strays(ix)
            raise
        self._remove_strays(ix)  # the files of merged-away segments go
        self._take_in(max(seq for _pid, seq in rows))  # before the rows go: a crash between is harmless
        self._forget_queue(rows)
        return len(rows)

    def merge(self) -> int:
        """Merge a full tier of small segments (see MERGE_BASE), if there is one: after a drain,
        so the drained papers are searchable first. Returns how many segments were merged away
        (0 also when another process holds the index lock: the next call does it)."""
        from whoosh.index import LockError

        segments = whoosh_internals.segments(self.ix)
        if not merge_due(segments, MERGE_MAX_DOCS):
            return 0
        with self._writing(wait=False) as held:
            if not held:
                return 0
            self._remove_strays(self.ix)  # what a failed or killed write left goes first
            try:
                writer = self._writer(self.ix)
            except LockError:
                return 0
            try:
                writer.commit(mergetype=functools.partial(merge_small_segments, largest=MERGE_MAX_DOCS))
            except BaseException:
                with contextlib.suppress(Exception):
                    writer.cancel()
                self._remove_strays(self.ix)
                raise
            self._remove_strays(self.ix)
        return len(segments) - len(whoosh_internals.segments(self.ix))

    def _writer(self, ix: Any, **kwargs: Any) -> Any:
        return whoosh_internals.segment_writer(ix, **kwargs) if self.fast else ix.writer(**kwargs)

    def _remove_strays(self, ix: Any) -> None:
        """Delete the files of segments the index does not list: a write that failed (a full
        disk) or was killed leaves its partial segment, and each retry would add another.
        Only while holding the index lock: another writer's new segment is unlisted too.
        (Whoosh's own writer, the stock path, cleans up after itself.)"""
        if not self.fast:
            return
        try:
            live = whoosh_internals.segment_ids(ix)
        except Exception:  # an unreadable table of contents: opening rebuilds it
            return
        name = ix.indexname
        sidecar.prune(self.dir, live)
        word_order.prune(self.dir, live)
        for path in self.dir.iterdir():
            segment = path.name.split(".", 1)[0]
            stray = (path.name == f"{name}.tmp" or path.name.endswith(".partial") or
                     (segment.startswith(f"{name}_") and segment not in live))
            if stray and path.name not in _OWN_FILES:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        path.unlink()

    # -- reading --------------------------------------------------------------------------------
    def searcher(self) -> Any:
        """A searcher on the latest committed index (kept open between searches)."""
        if self._searcher is None:
            self._searcher = self.ix.searcher()
        elif not self._searcher.up_to_date():
            # Not refresh(): it reuses segment readers and misses deletions made in them.
            self._view = None
            self._searcher.close()
            self._searcher = self.ix.searcher()
        return self._searcher

    def view(self) -> Any:
        """The current searcher's `IndexView` (decoded postings cached until the index changes),
        or on the stock path its `StockView` (Whoosh's own matchers)."""
        from paperdesk.core.search.evaluator import IndexView
        from paperdesk.core.search.stock import StockView

        searcher = self.searcher()
        if self._view is None or self._view.searcher is not searcher:
            self._view = IndexView(searcher, self.dir) if self.fast else StockView(searcher)
        return self._view

    def decided(self, view: Any) -> Callable[[str], Any]:
        """The compiler's `decided` for `view`: triage decisions read from the library."""
        return self._decisions.query(view)

    def within(self, view: Any, where: ViewFilter) -> np.ndarray:
        """The live documents of `view` whose paper is in the desk view `where`, as a mask."""
        return self._decisions.within(view, where)

    def doc_count(self) -> int:
        return self.searcher().doc_count()

    # -- checking -------------------------------------------------------------------------------
    def check(self, *, repair: bool = True, progress: Progress | None = None) -> dict:
        """Compare the index with the library: missing, stale and orphan documents; with `repair`,
        index them again (and what is queued), waiting for another writer to finish first."""
        issued = issued_seq(self.conn)  # every change up to it is in what is compared below
        indexed: dict[str, str] = {}
        for stored in self.searcher().all_stored_fields():
            indexed[stored["id"]] = stored.get("sig", "")
        total = paper_count(self.conn)
        missing: list[str] = []
        stale: list[str] = []
        seen: set[str] = set()
        done = 0
        for ids in all_paper_ids(self.conn):
            docs = load_documents(self.conn, ids)
            for pid, doc in docs.items():
                seen.add(pid)
                if pid not in indexed:
                    missing.append(pid)
                elif indexed[pid] != doc["sig"]:
                    stale.append(pid)
            done += len(ids)
            if progress:
                progress(done, total, "checking")
        orphan = sorted(set(indexed) - seen)
        pending = self.pending()
        report = {
            "papers": total, "documents": len(indexed), "missing": missing, "stale": stale,
            "orphan": orphan, "queued": pending, "ok": not (missing or stale or orphan),
            "repaired": 0,
        }
        if repair:
            with self._writing(wait=True):
                if missing or stale or orphan:
                    with self._transaction():
                        enqueue_index(self.conn, [*missing, *stale, *orphan])
                self._take_in(issued, checked=True)  # later changes have a higher seq: queued
                report["repaired"] = self._drain(None, None)
        return report

    def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self.conn)


def indexed_docnums(writer: Any, ids: list[str]) -> list[int]:
    """The writer's (committed, not deleted) documents of these paper ids, as its docnums: one
    term look-up per id and segment, in the segments' own term tables."""
    found: list[int] = []
    for reader, offset in writer.searcher().reader().leaf_readers():
        for pid in ids:
            if ("id", pid) in reader:  # a hash table look-up; postings() skips deleted documents
                found.extend(offset + docnum for docnum in reader.postings("id", pid).all_ids())
    return found


# Segments are merged a tier at a time: segments of up to MERGE_BASE documents are tier 0, up to
# MERGE_BASE * MERGE_FANIN tier 1, and so on; MERGE_FANIN segments of one tier become one. A merge
# costs about what indexing its documents afresh does (~3 ms each on a quiet machine), so a drain's
# commit merges only segments of up to MERGE_ON_DRAIN documents (the desk's single edits); `merge()`
# (run by `paperdesk index update`, i.e. the desk's indexer child, after its drain) takes the rest
# up to MERGE_MAX_DOCS a document; bigger segments (a build's) are never merged again. Whoosh's own
# policy never merged a day's 500 papers (they piled up, each costing every search term a look-up)
# and could merge a big segment into a small commit.
MERGE_BASE = 512
MERGE_FANIN = 6
MERGE_ON_DRAIN = 64
MERGE_MAX_DOCS = MERGE_BASE * MERGE_FANIN


def _tier(docs: int) -> int:
    tier, bound = 0, MERGE_BASE
    while docs > bound:
        tier, bound = tier + 1, bound * MERGE_FANIN
    return tier


def merge_small_segments(writer: Any, segments: list[Any], largest: int | None = None) -> list[Any]:
    """Whoosh's merge policy interface: the segments to keep as they are; the ones merged (the
    first full tier of segments of up to `largest` documents) are read into `writer`'s new segment,
    their deleted documents left out. A segment whose documents were all replaced is dropped."""
    from whoosh.reading import SegmentReader

    largest = MERGE_ON_DRAIN if largest is None else largest
    kept = [seg for seg in segments if seg.doc_count() > 0]
    tiers: dict[int, list[Any]] = {}
    for seg in kept:
        if seg.doc_count_all() <= largest:
            tiers.setdefault(_tier(seg.doc_count_all()), []).append(seg)
    merged = next((group for _tier_no, group in sorted(tiers.items()) if len(group) >= MERGE_FANIN), [])
    for seg in merged:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        try:
            writer.add_reader(reader)
        finally:
            reader.close()
    return [seg for seg in kept if seg not in merged]


def merge_due(segments: list[Any], largest: int) -> bool:
    """Whether `merge_small_segments` would merge (or drop) any of `segments`."""
    counts = [_tier(seg.doc_count_all()) for seg in segments if seg.doc_count_all() <= largest]
    return any(seg.doc_count() == 0 for seg in segments) or \
        any(counts.count(tier) >= MERGE_FANIN for tier in set(counts))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _write_state(folder: Path, seq: int) -> None:
    path = folder / _STATE_FILE
    tmp = path.with_name(path.name + ".partial")
    try:
        tmp.write_text(f"{seq}\n", encoding="ascii")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _word_order_there(folder: Path, segment: str) -> bool:
    """A segment's word order file is there and starts as one (it is opened at the first phrase
    search, not here)."""
    try:
        with open(word_order.path_for(folder, segment), "rb") as f:
            return f.read(len(word_order.MAGIC)) == word_order.MAGIC
    except OSError:
        return False
