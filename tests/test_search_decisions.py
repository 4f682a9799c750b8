"""Triage decisions in a search (`is:starred`, `is:archived`, ...) and the desk views a search is
within (a tag, a digest, a category, with a decision or not): the masks a connection keeps between
searches stay exactly what a fresh read of the library gives, whoever changed it."""

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
from paperdesk.core.view_filter import ViewFilter


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


def arxiv_batch(n: int, first: int, version: int, rng: random.Random) -> SourceBatch:
    """n arXiv papers (new, or listed again: a newer version can move a paper to another category)."""
    papers = [IncomingPaper(title=f"Graph model number {first + i} of sparse graphs", abstract="Graphs.",
                            arxiv_id=f"2611.{first + i:05d}", arxiv_version=f"v{version}",
                            categories=rng.choice(["cs.CL", "cs.LG cs.CL", "cs.AI"]), published="2026-11-20")
              for i in range(n)]
    return SourceBatch(kind="arxiv", name=f"a{first}-{version}", origin=f"/tmp/a{first}-{version}",
                       date="2026-11-20", content_hash=f"arxiv-{first}-{version}-{rng.random()}",
                       papers=papers)


def in_view(lib: Library, where: ViewFilter) -> set[str]:
    condition, params = where.sql()
    return {r[0] for r in lib.conn.execute(f"SELECT p.id FROM papers p WHERE {condition}", params)}


def assert_views_exact(lib: Library, views: list[ViewFilter]) -> None:
    """Each view's documents, and a search's hits within it, as a fresh read of the library gives."""
    index = lib.search.index
    view = index.view()
    every = [h.id for h in lib.search.run("graphs OR model", limit=None, drain=False).hits]
    for where in views:
        members = in_view(lib, where)
        assert np.array_equal(index.within(view, where), view.live() & view.mask_of(sorted(members))), where
        hits = lib.search.run("graphs OR model", limit=None, drain=False, within=where).hits
        assert [h.id for h in hits] == [pid for pid in every if pid in members], where


def desk_views(lib: Library) -> list[ViewFilter]:
    sources = [r[0] for r in lib.conn.execute("SELECT id FROM sources")]
    return [*(ViewFilter(tag=t) for t in ("reading", "x")), *(ViewFilter(source_id=s) for s in sources),
            *(ViewFilter(category=c) for c in ("cs.CL", "cs.LG", "cs.AI")),
            ViewFilter(status="inbox", tag="reading"), ViewFilter(starred=True, source_id=1),
            ViewFilter(status="archived", category="cs.CL"),
            ViewFilter(starred=False, tag="x", category="cs.LG")]


def test_views_follow_random_changes_from_any_connection_or_process(seeded):
    """A tag's, digest's or category's papers are kept by each connection until migration 0019's
    counters move: tagged or untagged (here or on another connection), papers added to a digest,
    an import undone, a paper listed again in another category, beside stars, archives and notes."""
    rng = random.Random(23)
    seeded.search.run("graphs")  # the index exists
    reader = Library.open_reader(seeded.folder)  # as the desk's reader thread
    other = Library.open(seeded.folder)  # another writer (a second desk, a script)
    made, version = 0, 1

    def some() -> list[str]:
        ids = [r[0] for r in seeded.conn.execute("SELECT id FROM papers")]
        return rng.sample(ids, rng.randint(1, 4))

    try:
        for step in range(40):
            action = rng.choice(["star", "archive", "unarchive", "note", "tag", "untag", "tag elsewhere",
                                 "untag elsewhere", "import", "add to a digest", "relist", "undo"])
            if action == "star":
                seeded.star(some(), starred=rng.random() < 0.7)
            elif action == "archive":
                seeded.archive(some())
            elif action == "unarchive":
                seeded.set_status(some(), "inbox")
            elif action == "note":
                seeded.notes.set(some()[0], f"note {step}")
            elif action in ("tag", "tag elsewhere"):
                (seeded if action == "tag" else other).tag(some(), [rng.choice(["reading", "x"])])
            elif action in ("untag", "untag elsewhere"):
                tagged = [r[0] for r in seeded.conn.execute("SELECT paper_id FROM tags LIMIT 5")]
                writer = seeded if action == "untag" else other
                if tagged:
                    writer.untag(tagged[:rng.randint(1, 5)], ["reading", "x"])
            elif action == "import":
                seeded.import_batch(arxiv_batch(rng.randint(1, 20), made, 1, rng), drain=False)
                made += 20
            elif action == "add to a digest":  # new papers and ones it already had (an existing source)
                seeded.import_batch(batch(3, rng.randrange(made + 1), step), source_id=rng.choice([1, 2]),
                                    drain=False)
            elif action == "relist" and made:
                version += 1
                seeded.import_batch(arxiv_batch(5, rng.randrange(made), version, rng), drain=False)
            else:
                seeded.undo()
            if step % 3 == 0:
                seeded.search.update()  # the index catches up (new segments, deletions, merges)
            for lib in (seeded, reader, other):
                assert_views_exact(lib, desk_views(seeded))
        # Another process: `paperdesk tag` / `untag` in a shell.
        pid = some()[0]
        cli(seeded.folder, "tag", pid, "reading")
        for lib in (seeded, reader):
            assert_views_exact(lib, desk_views(seeded))
        cli(seeded.folder, "untag", pid, "reading")
        for lib in (seeded, reader):
            assert_views_exact(lib, desk_views(seeded))
        categorized = "SELECT count(*) FROM papers WHERE primary_category IS NOT NULL"
        assert seeded.conn.execute(categorized).fetchone()[0]
    finally:
        reader.close()
        other.close()


def membership_reads(lib: Library, where: ViewFilter) -> list[str]:
    """The statements reading a tag's, digest's or category's papers while a search within runs."""
    seen: list[str] = []
    lib.conn.set_trace_callback(seen.append)
    try:
        lib.search.run("graphs OR model", limit=None, drain=False, within=where)
    finally:
        lib.conn.set_trace_callback(None)
    return [sql for sql in seen if any(part in sql for part in ("tags", "provenance", "primary_category"))]


@pytest.mark.parametrize("where", [ViewFilter(tag="reading"), ViewFilter(source_id=2),
                                   ViewFilter(category="cs.CL"), ViewFilter(status="inbox", tag="reading"),
                                   ViewFilter(starred=False, source_id=2)],
                         ids=["tag", "digest", "category", "inbox tag", "unstarred digest"])
def test_a_triage_action_leaves_a_views_papers_kept_until_they_change(seeded, where):
    """At 1M papers a snapshot's source took 0.3-0.7 s to read: read again after every star, archive
    or note, each search keystroke after one lagged. They are read again when its papers change."""
    rng = random.Random(5)
    seeded.import_batch(arxiv_batch(30, 0, 1, rng))
    seeded.tag(seeded.paper_ids()[::4], ["reading"])
    seeded.search.run("graphs")
    reader = Library.open_reader(seeded.folder)
    try:
        assert membership_reads(reader, where)  # the first search: read
        assert membership_reads(reader, where) == []
        ids = sorted(in_view(seeded, where.membership()))
        seeded.star(ids[:2])
        seeded.archive(ids[2:4])
        seeded.notes.set(ids[4], "A note: the paper is indexed again.")
        seeded.tag(ids[5:6], ["elsewhere"])  # another tag's papers
        seeded.search.update()  # a new view (the noted paper's new document)
        assert membership_reads(reader, where) == []
        assert_views_exact(reader, [where])
        # Its papers change: read again.
        if where.tag:
            seeded.untag(ids[:1], [where.tag])
        elif where.source_id:
            seeded.import_batch(batch(2, 500, 1), source_id=where.source_id, drain=False)
        else:
            seeded.import_batch(arxiv_batch(2, 0, 2, random.Random(1)), drain=False)  # relisted
        assert membership_reads(reader, where)
        assert_views_exact(reader, [where])
    finally:
        reader.close()


def arxiv_papers(n: int, first: int, category: str) -> SourceBatch:
    papers = [IncomingPaper(title=f"Graph study {first + i} in {category}", abstract="Graphs.",
                            arxiv_id=f"2612.{first + i:05d}", arxiv_version="v1", categories=category)
              for i in range(n)]
    return SourceBatch(kind="arxiv", name=f"c{first}", origin=f"/tmp/c{first}", date="2026-12-01",
                       content_hash=f"categories-{first}", papers=papers)


@pytest.mark.parametrize("where", [ViewFilter(source_id=1), ViewFilter(category="cs.CL")],
                         ids=["digest", "category"])
def test_an_undone_imports_papers_leave_the_view_when_their_rowids_come_back(seeded, where):
    """An undone import deletes its papers (their sightings by cascade); SQLite gives the next
    papers made their rowids again: a view's papers kept as rowids must have been read again."""
    seeded.search.run("graphs")
    reader = Library.open_reader(seeded.folder)
    try:
        if where.category:
            seeded.import_batch(arxiv_papers(5, 0, "cs.CL"))
        else:
            seeded.import_batch(batch(5, 900, 1), source_id=1)
        made = seeded.conn.execute("SELECT max(rowid) FROM papers").fetchone()[0]
        assert_views_exact(reader, [where])  # kept, with the new papers
        seeded.undo()
        assert_views_exact(reader, [where])
        seeded.import_batch(arxiv_papers(5, 100, "cs.AI"))  # a new source, another category
        assert seeded.conn.execute("SELECT max(rowid) FROM papers").fetchone()[0] == made  # rowids again
        assert_views_exact(reader, [where])
    finally:
        reader.close()
