"""Build a fresh index with several processes, one segment each (Whoosh writes in pure Python).

Each worker opens the library read-only, turns its share of the papers into documents and writes
them as one segment of the (still unpublished) fresh index, without the index lock; the parent
then commits one table of contents listing every worker's segment, as Whoosh's own
multi-segment writer does. Workers are spawned, never forked: forking a process that runs Qt
threads is unsafe. (A frozen app must call `multiprocessing.freeze_support()` at start.)
Workers die with their parent: a rebuild killed with -9 must not leave them writing for a minute.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paperdesk.core.children import die_with_parent, start_spawned

MIN_PAPERS = 6000  # below this, starting processes costs more than it saves
MAX_WORKERS = 4


def workers_for(papers: int) -> int:
    if papers < MIN_PAPERS:
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1, papers // (MIN_PAPERS // 2)))


def _worker(db_path: str, index_dir: str, rowids: tuple[int, int], limitmb: int, pool_limit: int,
            out: Any) -> None:
    """Write the documents of the papers in the closed `rowids` range as one segment (its pool
    holds at most `pool_limit` postings in memory, the parent's POOL_LIMIT); report progress,
    then the segment."""
    die_with_parent()
    try:
        from paperdesk.core.search import whoosh_internals as internals
        from paperdesk.core.search.documents import all_paper_ids, load_documents
        from paperdesk.core.search.fields import open_index, to_fields

        internals.POOL_LIMIT = pool_limit
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        ix = open_index(index_dir)
        writer = internals.segment_writer(ix, _lk=False, limitmb=limitmb)
        for ids in all_paper_ids(conn, 1000, rowids):
            for doc in load_documents(conn, ids).values():
                writer.add_document(**to_fields(doc))
            out.put(("progress", len(ids)))
        segment = internals.finish_segment(writer)
        conn.close()
        ix.close()
        out.put(("segment", segment))
    except BaseException as exc:  # the parent reports it and cleans up
        out.put(("error", f"{type(exc).__name__}: {exc}"))


def build_segments(ix: Any, db_path: str, rowid_ranges: list[tuple[int, int]], limitmb: int,
                   progress: Callable[[int], None]) -> None:
    """Index the papers of each closed rowid range in its own process (each reads its own ids:
    no list of every id is made or sent) and commit all segments at once."""
    from paperdesk.core.search import whoosh_internals as internals

    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    folder = str(Path(ix.storage.folder))
    procs = [context.Process(target=_worker, daemon=True,
                             args=(db_path, folder, rowids, limitmb, internals.POOL_LIMIT, out))
             for rowids in rowid_ranges]
    lock = ix.lock("WRITELOCK")  # as a writer would: no one else writes meanwhile
    if not lock.acquire(blocking=False):
        raise RuntimeError("the fresh search index is locked by another writer")
    try:
        start_spawned(procs)
        segments: list[Any] = []
        while len(segments) < len(procs):
            try:
                kind, value = out.get(timeout=1.0)
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in procs):
                    raise RuntimeError("an index worker stopped unexpectedly") from None
                continue
            if kind == "error":
                raise RuntimeError(f"an index worker failed: {value}")
            if kind == "progress":
                progress(value)
            else:
                segments.append(value)
        for proc in procs:
            proc.join()
        internals.commit_segments(ix, segments)
    finally:
        for proc in procs:
            if proc.pid is not None:  # started
                if proc.is_alive():
                    proc.terminate()
                proc.join()
        out.close()
        out.join_thread()
        lock.release()
