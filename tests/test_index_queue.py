"""The index queue is exact (a seq per enqueue, not a time), the index says when it disagrees
with the library, and a closing command indexes only a little of a big queue."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from samples import DIGEST_BLOCKS, DIGEST_PLAIN, ROOT, TODAY
from sqlite_utils import Database

from paperdesk.core import Library, store
from paperdesk.core.schema import migrations
from paperdesk.core.search.manager import CLOSE_DRAIN_LIMIT


def queued(lib: Library) -> dict[str, int]:
    return dict(lib.conn.execute("SELECT paper_id, seq FROM index_queue"))


def run(*args: str, library) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(library), *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONWARNINGS": "error"})


def test_a_change_made_while_a_drain_runs_in_the_same_second_stays_queued(seeded, monkeypatch):
    # Every enqueue in the same second, as when another process writes during a drain.
    monkeypatch.setattr(store, "now_iso", lambda: "2026-12-04T12:00:00+00:00")
    assert seeded.search.run("is:starred").total == 0  # an index exists, the queue is empty
    pid = seeded.paper_ids(limit=1)[0]
    seeded.tag([pid], ["early"])
    other = Library.open(seeded.folder)  # another process's connection
    tagged: list[bool] = []

    def meanwhile(done: int, total: int, what: str) -> None:
        # The drain has read its rows and the papers' documents, and has not committed yet.
        if not tagged:
            other.tag([pid], ["late"])
            tagged.append(True)

    try:
        assert seeded.search.update(progress=meanwhile) == 1
        assert tagged
        waiting = [r[0] for r in seeded.conn.execute("SELECT paper_id FROM index_queue")]
        assert waiting == [pid]  # the tag's row is newer than the one drained
        assert seeded.search.run("tag:late").total == 1  # the next drain indexes it
    finally:
        other.close()


def test_enqueue_gives_a_higher_seq_each_time(seeded):
    pid = seeded.paper_ids(limit=1)[0]
    highest = max(queued(seeded).values())
    seeded.tag([pid], ["again"])
    assert queued(seeded)[pid] == highest + 1
    seeded.untag([pid], ["again"])
    assert queued(seeded)[pid] == highest + 2


def test_migration_keeps_the_queue_in_order(library_dir):
    library_dir.mkdir()
    db = Database(library_dir / "library.sqlite3")
    migrations.apply(db, stop_before="0004_index_queue_seq")  # the last step
    db.execute(f"PRAGMA user_version = {len(list(migrations.applied(db)))}")
    db.executescript("""
        INSERT INTO index_queue (paper_id, queued_at) VALUES ('b', '2026-01-02T00:00:00+00:00');
        INSERT INTO index_queue (paper_id, queued_at) VALUES ('a', '2026-01-03T00:00:00+00:00');
        INSERT INTO index_queue (paper_id, queued_at) VALUES ('c', '2026-01-01T00:00:00+00:00');
    """)
    db.close()
    with Library.open(library_dir) as lib:
        rows = lib.conn.execute("SELECT paper_id FROM index_queue ORDER BY seq").fetchall()
        assert [r[0] for r in rows] == ["c", "b", "a"]
        lib.conn.execute("DELETE FROM index_queue")  # the papers do not exist



def test_migration_0014_keeps_the_queue_and_its_counter_and_drops_unused_indexes(library_dir):
    library_dir.mkdir()
    db = Database(library_dir / "library.sqlite3")
    migrations.apply(db, stop_before="0014_smaller")
    db.execute(f"PRAGMA user_version = {len(list(migrations.applied(db)))}")
    db.executescript("""
        INSERT INTO index_queue (paper_id, queued_at) VALUES ('x', '2026-01-01T00:00:00+00:00');
        INSERT INTO index_queue (paper_id, queued_at) VALUES ('b', '2026-01-02T00:00:00+00:00');
        INSERT INTO index_queue (paper_id, queued_at) VALUES ('a', '2026-01-03T00:00:00+00:00');
        INSERT INTO index_queue (paper_id, queued_at) VALUES ('z', '2026-01-04T00:00:00+00:00');
        DELETE FROM index_queue WHERE paper_id IN ('x', 'z');  -- drained: the counter stays at 4
    """)
    db.close()
    with Library.open(library_dir) as lib:
        assert lib.conn.execute("SELECT paper_id, seq FROM index_queue ORDER BY seq").fetchall() == \
            [("b", 2), ("a", 3)]
        counter = lib.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'index_queue'").fetchone()
        assert counter == (4,)
        names = {r[0] for r in lib.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert not names & {"papers_status_published", "papers_published"}
        columns = [r[1] for r in lib.conn.execute("PRAGMA table_info(index_queue)")]
        assert columns == ["seq", "paper_id"]
        lib.conn.execute("DELETE FROM index_queue")  # the papers do not exist
        lib.import_paths([DIGEST_PLAIN], today=TODAY)
        assert min(queued(lib).values()) == 5  # a new change never reuses a seq
        plan = " ".join(r[3] for r in lib.conn.execute(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM papers WHERE status = 'archived'"))
        assert "USING COVERING INDEX papers_status_order" in plan  # an index range, not a scan
        assert lib.stats()["papers"] == 79 and lib.search.run("model").total > 0
    assert list(library_dir.glob("library.sqlite3.before-schema-*.bak"))

def test_an_index_newer_than_its_library_is_repaired_at_the_next_drain(seeded):
    """A library put back from a copy: the index still has what the copy lacks."""
    seeded.search.run("warm")
    assert seeded.search.index.agrees()
    seeded.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = seeded.folder / "copy.sqlite3"
    shutil.copy2(seeded.path, copy)
    pid = seeded.paper_ids(limit=1)[0]
    seeded.tag([pid], ["later"])
    assert seeded.search.run("tag:later").total == 1
    seeded.close()
    shutil.copy2(copy, seeded.path)  # the library goes back; its index does not
    with Library.open(seeded.folder) as lib:
        assert not lib.search.index.agrees()
        assert lib.search.run("tag:later").total == 0
        assert lib.search.index.agrees()
        assert any("differed from the library in 1 papers" in m for m in lib.search.index.take_messages())


def test_an_index_without_a_record_is_checked_once(seeded):
    seeded.search.run("warm")
    index = seeded.search.index
    (index.dir / "PAPERDESK_INDEX_STATE").unlink()  # as an index written before the record
    with seeded.transaction():  # a change lost by the old queue: in SQLite, not in the index
        seeded.conn.execute("INSERT INTO tags (paper_id, tag, added_at) VALUES (?, 'lost', '')",
                            (seeded.paper_ids(limit=1)[0],))
    assert not index.agrees()
    assert seeded.search.run("tag:lost").total == 1
    assert index.agrees()


def test_a_short_command_leaves_a_big_queue_to_the_indexer(seeded):
    seeded.search.run("warm")  # the index exists
    papers = seeded.count()
    with seeded.transaction():  # as a big import by the desk leaves it
        store.enqueue_index(seeded.conn, seeded.paper_ids())
    pid = seeded.paper_ids(limit=1)[0]
    seeded.defer_indexing = True  # this process leaves the queue as it is
    seeded.close()
    proc = run("tag", pid, "waiting", library=seeded.folder)
    assert proc.returncode == 0, proc.stderr
    with Library.open(seeded.folder) as lib:
        left = lib.conn.execute("SELECT count(*) FROM index_queue").fetchone()[0]
        assert papers > CLOSE_DRAIN_LIMIT and left == papers  # the tagged paper is among those queued
        assert f"{left} papers wait for the search index" in proc.stderr
        assert "paperdesk index update" in proc.stderr
        lib.defer_indexing = True  # this test's own close leaves the queue alone
    proc = run("search", "tag:waiting", library=seeded.folder)
    assert proc.returncode == 0, proc.stderr
    assert pid in proc.stdout and "1 paper" in proc.stdout  # a search drains everything first
    with Library.open(seeded.folder) as lib:
        assert lib.conn.execute("SELECT count(*) FROM index_queue").fetchone()[0] == 0


def test_import_then_close_still_indexes_what_it_imported(library_dir):
    with Library.open(library_dir) as lib:
        lib.import_paths([DIGEST_BLOCKS], today=TODAY)
        lib.search.run("warm")
        lib.import_paths([DIGEST_PLAIN], today=TODAY)
        assert lib.conn.execute("SELECT count(*) FROM index_queue").fetchone()[0] == 0
        assert lib.search.backlog == 0


def test_starring_or_archiving_indexes_nothing(seeded):
    """Triage decisions are read from SQLite by a search: a star, an archive and their undo
    leave the index queue empty and the index unwritten, and a search with words sees them."""
    seeded.search.run("warm")  # the index exists, the queue is empty
    index_files = sorted(p.name for p in seeded.search.index.dir.iterdir())
    generation = seeded.search.index.ix.latest_generation()
    hit = seeded.search.run("language", typing=False).hits[0].id
    seeded.star([hit])
    seeded.archive([hit])
    assert queued(seeded) == {}
    assert seeded.search.run("language is:starred", typing=False).total == 1
    assert hit in {h.id for h in seeded.search.run("language is:archived", typing=False).hits}
    assert hit not in {h.id for h in seeded.search.run("language is:inbox", typing=False).hits}
    seeded.undo()  # the archive
    assert queued(seeded) == {}
    assert hit in {h.id for h in seeded.search.run("language is:inbox", typing=False).hits}
    assert hit not in {h.id for h in seeded.search.run("language -is:inbox", typing=False).hits}
    assert seeded.search.index.ix.latest_generation() == generation  # no commit happened
    assert sorted(p.name for p in seeded.search.index.dir.iterdir()) == index_files
