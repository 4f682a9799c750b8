"""Triage decisions in a search (`is:starred`, `is:archived`, ...): the masks a connection keeps
between searches stay exactly what a fresh read of the library gives, whoever changed it."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
from samples import ROOT

from paperdesk.core import Library
from paperdesk.core.records import IncomingPaper, SourceBatch
from paperdesk.core.search import decisions
from paperdesk.core.search.decisions import DECISIONS


def reference(lib: Library, view, name: str) -> np.ndarray:
    """The decision's documents as a fresh full read makes them: every paper id SQLite lists,
    looked up in the view by id."""
    where, complement = DECISIONS[name]
    found = view.mask_of([r[0] for r in lib.conn.execute(f"SELECT id FROM papers WHERE {where}")])
    return view.live() & (~found if complement else found)


def assert_masks_exact(lib: Library) -> None:
    view = lib.search.index.view()
    decided = lib.search.index.decided(view)
    for name in DECISIONS:
        assert np.array_equal(decided(name).mask, reference(lib, view, name)), name
    rowids = lib.search.index._decisions._rowids_of_view  # the rowid path answered, not the fallback
    assert rowids is not None and rowids[1] is not None


def batch(n: int, first: int, step: int) -> SourceBatch:
    """n papers (new ones, or seen again with a longer abstract: re-indexed)."""
    papers = [IncomingPaper(title=f"Decisive study number {first + i} of sparse graphs",
                            abstract="We study graphs and their masks." + " Again." * step,
                            published="2026-11-20")
              for i in range(n)]
    return SourceBatch(kind="digest", name=f"d{step}", origin=f"/tmp/d{step}", date="2026-11-20",
                       content_hash=f"decisions-{step}", papers=papers)


def cli(folder, *args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(folder), *args],
                          capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONWARNINGS": "error"})
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("patch_at_most", [20_000, 3])
def test_masks_follow_random_changes_from_any_connection_or_process(seeded, monkeypatch, patch_at_most):
    monkeypatch.setattr(decisions, "PATCH_AT_MOST", patch_at_most)  # 3: bigger changes read whole
    rng = random.Random(7)
    seeded.search.run("graphs")  # the index exists
    reader = Library.open_reader(seeded.folder)  # as the desk's reader thread: another connection
    made = 0

    def some() -> list[str]:
        ids = [r[0] for r in seeded.conn.execute("SELECT id FROM papers")]
        return rng.sample(ids, rng.randint(1, 4))

    try:
        for step in range(40):
            action = rng.choice(["star", "unstar", "archive", "unarchive", "import", "again", "undo"])
            if action == "star":
                seeded.star(some())
            elif action == "unstar":
                seeded.star(some(), starred=False)
            elif action == "archive":
                seeded.archive(some())
            elif action == "unarchive":
                seeded.set_status(some(), "inbox")
            elif action == "import":
                seeded.import_batch(batch(rng.randint(1, 30), made, step), drain=False)
                made += 30
            elif action == "again" and made:
                seeded.import_batch(batch(5, rng.randrange(made), step), drain=False)
            else:
                seeded.undo()
            if step % 3 == 0:
                seeded.search.update()  # the index catches up (new segments, deletions, merges)
            for lib in (seeded, reader):
                assert_masks_exact(lib)
        # Another process: `paperdesk star` / `archive` in a shell.
        pid, other = some()[0], seeded.conn.execute("SELECT id FROM papers LIMIT 1 OFFSET 3").fetchone()[0]
        cli(seeded.folder, "star", pid)
        cli(seeded.folder, "archive", other)
        for lib in (seeded, reader):
            assert_masks_exact(lib)
        assert seeded.conn.execute("SELECT starred FROM papers WHERE id = ?", (pid,)).fetchone()[0] == 1
    finally:
        reader.close()


def found(lib: Library, query: str) -> set[str]:
    return {hit.id for hit in lib.search.run(query, limit=None, drain=False).hits}


def test_a_search_with_a_decision_after_an_archive_on_another_connection(seeded):
    seeded.search.run("graph")  # the index exists
    reader = Library.open_reader(seeded.folder)
    try:
        hits = found(reader, "graph is:inbox")
        assert hits
        gone = sorted(hits)[0]
        seeded.archive([gone])
        assert found(reader, "graph is:inbox") == hits - {gone}
        assert gone in found(reader, "graph is:archived")
    finally:
        reader.close()


def whole_reads(lib: Library, query: str) -> list[str]:
    """The statements reading a decision's papers whole while `query` runs."""
    seen: list[str] = []
    lib.conn.set_trace_callback(seen.append)
    try:
        lib.search.run(query, limit=None, drain=False)
    finally:
        lib.conn.set_trace_callback(None)
    return [sql for sql in seen if "group_concat(p.rowid) FROM papers p WHERE" in sql]


def test_a_star_or_an_archive_patches_the_masks_instead_of_reading_them_whole(seeded):
    seeded.search.run("graph")
    reader = Library.open_reader(seeded.folder)
    try:
        assert whole_reads(reader, "graph is:inbox -is:starred")  # the first: read whole
        ids = [r[0] for r in seeded.conn.execute("SELECT id FROM papers WHERE status = 'inbox' LIMIT 3")]
        seeded.archive(ids[:2])
        seeded.star(ids[2:])
        seeded.tag(ids[:1], ["x"])  # no decision: journals nothing
        assert whole_reads(reader, "graph is:inbox -is:starred") == []
        assert_masks_exact(reader)
        assert seeded.conn.execute("SELECT count(*) FROM decision_changes").fetchone()[0] == 3
        # Rows the reader has not read pruned away: it cannot patch, so it reads whole.
        seeded.set_status(ids[:2], "inbox")
        seeded.conn.execute("DELETE FROM decision_changes "
                            "WHERE seq < (SELECT max(seq) FROM decision_changes)")
        seeded.conn.commit()
        assert whole_reads(reader, "graph is:inbox -is:starred")
        assert_masks_exact(reader)
    finally:
        reader.close()


def test_the_journal_keeps_its_newest_rows(lib):
    conn = lib.conn
    conn.executemany("INSERT INTO decision_changes (seq, paper) VALUES (?, 1)",
                     [(s,) for s in range(1, 100_500)])
    assert conn.execute("SELECT min(seq), count(*) FROM decision_changes").fetchone() == (1, 100_499)
    conn.execute("INSERT INTO decision_changes (paper) VALUES (1)")  # seq 100,500
    conn.executemany("INSERT INTO decision_changes (paper) VALUES (1)", [()] * 500)  # to 101,000
    assert conn.execute("SELECT min(seq), max(seq) FROM decision_changes").fetchone() == (1001, 101_000)
    conn.rollback()


def test_a_decision_read_that_failed_is_tried_again_at_the_next_search(seeded, monkeypatch):
    """A journal read that fails (busy, interrupted) left the masks as they were until some later
    commit: the next search, with nothing committed between, missed the change."""
    seeded.search.run("model")
    reader = Library.open_reader(seeded.folder)
    try:
        starred = lambda: {h.id for h in reader.search.run("is:starred model", limit=None, drain=False).hits}  # noqa: E731
        assert starred() == set()
        pid = seeded.search.run("model", limit=1).hits[0].id
        seeded.star([pid])
        real, failed = decisions.Decisions._patch, []

        def patch_once(self, rowids):
            if not failed:
                failed.append(True)
                raise sqlite3.OperationalError("database is locked")
            return real(self, rowids)

        monkeypatch.setattr(decisions.Decisions, "_patch", patch_once)
        with pytest.raises(sqlite3.OperationalError):
            starred()
        assert starred() == {pid}
    finally:
        reader.close()


def test_segment_rowids_kept_for_the_process_are_not_thrown_away_when_none_is_new(seeded, monkeypatch):
    seeded.search.run("model")
    seeded.import_batch(batch(5, 0, 1))
    seeded.search.run("model")  # a second segment
    view = seeded.search.index.view()
    assert len(view.segment_ids()) >= 2
    monkeypatch.setattr(decisions, "_KEPT_SEGMENTS", len(view.segment_ids()) - 1)
    monkeypatch.setattr(decisions, "_SEGMENT_ROWIDS", {})
    looked: list[int] = []
    real = decisions._rowids_of
    monkeypatch.setattr(decisions, "_rowids_of", lambda *a: (looked.append(1), real(*a))[1])
    first = decisions.segment_rowids(seeded.conn, view)
    assert looked and first is not None
    looked.clear()
    for _ in range(2):  # (the cache was emptied by every other call)
        again = decisions.segment_rowids(seeded.conn, view)
        assert [a.tolist() for a in again] == [a.tolist() for a in first]
    assert not looked  # kept: nothing read again


def test_after_an_import_only_the_new_segments_ids_are_read(seeded):
    """A new view's masks need the rowids of its new segment only (the others' are kept): reading
    every leaf's ids again cost the first decision search after an import ~50 ms at 1M papers."""
    seeded.search.run("graphs is:inbox")  # every segment's rowids known
    seeded.import_batch(batch(5, 10_000, 1), drain=False)
    seeded.search.update()
    view = seeded.search.index.view()
    assert len(view.leaves) > 1
    seeded.search.run("graphs is:inbox")
    assert_masks_exact(seeded)
    new = [leaf for leaf, (reader, _) in enumerate(view.leaves)
           if reader.doc_count_all() == 5]
    assert sorted(view._id_arrays) == new  # (read: the new segment's ids only)
