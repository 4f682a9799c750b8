"""Undo scope (issue 18.3, 18.8): each operation records who made it; an undo never takes back
someone else's change unasked, never overwrites a later change, and never loses a note revision."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from feed_server import feed_xml, serve_folder
from samples import DIGEST_ALTERNATING, DIGEST_BLOCKS, DIGEST_PLAIN, TODAY
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from paperdesk.core import Library, LibraryError, schema
from paperdesk.core.digest import read_digest
from paperdesk.core.feeds.refresh import refresh_feeds
from paperdesk.core.normalize import normalize_title


@pytest.fixture
def desk(library_dir):
    """The desk's Library and, on the same folder, another process's (a script, the CLI)."""
    lib = Library.open(library_dir)
    lib.origin = "desk:test"
    other = Library.open(library_dir)
    other.origin = "cli:other"
    yield lib, other
    other.close()
    lib.close()


def test_the_desk_undoes_its_own_change_not_a_later_import_by_another_process(desk):
    lib, other = desk
    other.import_paths([DIGEST_PLAIN], today=TODAY)
    later = read_digest(DIGEST_BLOCKS, today=TODAY).papers
    titles = {normalize_title(p.title) for p in later}
    arxiv = {p.arxiv_id for p in later if p.arxiv_id}
    pid = next(r["id"] for r in lib.rows(lib.paper_ids())
               if r["title_norm"] not in titles and (r["arxiv_id"] or "") not in arxiv)
    lib.star([pid])
    other.import_paths([DIGEST_BLOCKS], today=TODAY)  # the long import beside the desk
    papers = lib.stats()["papers"]
    op, changes = lib.undo(own=True)
    assert op is not None and op.label.startswith("Star") and op.origin == "desk:test"
    assert lib.get(pid)["starred"] is False
    assert lib.stats()["papers"] == papers  # the other process's import is untouched
    assert lib.undo(own=True) == (None, changes.__class__())  # nothing else of the desk's
    assert lib.redo(own=True)[0].id == op.id
    assert lib.get(pid)["starred"] is True


def test_an_undo_that_would_overwrite_a_later_change_is_refused(desk):
    lib, other = desk
    other.import_paths([DIGEST_PLAIN], today=TODAY)
    pid = lib.paper_ids(limit=1)[0]
    lib.star([pid])
    other.archive([pid])  # the same paper's row, changed later by someone else
    with pytest.raises(LibraryError, match=r"later change 'Archive .*' .*undo it first"):
        lib.undo(own=True)
    assert lib.get(pid)["starred"] is True and lib.get(pid)["status"] == "archived"
    other.undo()  # once the later change is gone, the desk's own undo goes through
    lib.undo(own=True)
    assert lib.get(pid)["starred"] is False


def test_redo_stacks_are_per_maker_and_a_conflicting_redo_is_refused(desk):
    lib, other = desk
    other.import_paths([DIGEST_PLAIN], today=TODAY)
    first, second = lib.paper_ids(limit=2)
    lib.star([first])
    lib.undo(own=True)
    other.star([second])  # another maker's new change keeps the desk's redo stack
    assert lib.last_redoable(own=True) is not None
    lib.redo(own=True)
    assert lib.get(first)["starred"] is True
    lib.undo(own=True)
    other.archive([first])  # ...but a change to the same paper makes that redo unsafe
    with pytest.raises(LibraryError, match="cannot redo"):
        lib.redo(own=True)
    assert lib.get(first)["starred"] is False and lib.get(first)["status"] == "archived"


def test_linear_undo_and_redo_of_several_steps_still_works(seeded):
    pid = seeded.paper_ids(limit=1)[0]
    seeded.star([pid])
    seeded.tag([pid], ["a"])
    seeded.archive([pid])
    for _ in range(3):
        seeded.undo()
    assert seeded.get(pid)["starred"] is False and seeded.get(pid)["tags"] == []
    for _ in range(3):
        seeded.redo()
    record = seeded.get(pid)
    assert record["starred"] and record["tags"] == ["a"] and record["status"] == "archived"


def test_note_revisions_survive_undo_and_redo_through_an_import(lib):
    lib.import_paths([DIGEST_PLAIN], today=TODAY)
    pid = lib.paper_ids(limit=1)[0]
    lib.notes.set(pid, "first")
    lib.notes.set(pid, "second")
    for _ in range(3):  # both edits, then the import that made the paper
        lib.undo()
    assert not lib.exists(pid)
    for _ in range(3):
        lib.redo()
    assert lib.notes.get(pid) == "second"
    assert [r.body for r in lib.notes.history(pid)] == ["second", "first"]


def test_an_autosave_merged_into_the_last_step_ends_the_redo_stack(seeded):
    pid = seeded.paper_ids(limit=1)[0]
    seeded.notes.set(pid, "draft", autosave=True)
    seeded.notes.set(pid, "draft, saved")
    seeded.undo()  # back to "draft"; redo would bring "draft, saved"
    seeded.notes.set(pid, "draft and newer typing", autosave=True)  # merged into step 1
    op, _ = seeded.redo()
    assert op is None
    assert seeded.notes.get(pid) == "draft and newer typing"


def test_undoing_a_feed_import_lets_the_next_refresh_bring_it_back(lib, tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "feed.xml").write_bytes(feed_xml(1, 5))
    with serve_folder(root) as base:
        feed = lib.feeds.add(f"{base}/feed.xml", "Test feed 1")
        (result,) = refresh_feeds(lib, due_only=False)
        assert result.status == "ok" and result.new == 5
        assert lib.feeds.get(feed.id).etag
        op, _ = lib.undo()
        assert op.kind == "import" and op.origin.startswith("refresh:")
        assert lib.stats()["papers"] == 0
        assert lib.feeds.get(feed.id).etag is None and lib.feeds.get(feed.id).last_modified is None
        (again,) = refresh_feeds(lib, due_only=False)
    assert again.status == "ok" and again.new == 5
    assert lib.stats()["papers"] == 5


def test_migration_0005_keeps_history_order_and_frees_revisions(library_dir):
    """A library written before 0005: its undone operations redo in the right order."""
    library_dir.mkdir()
    conn = sqlite3.connect(library_dir / "library.sqlite3", isolation_level=None)
    old = Migrations("paperdesk")
    for name, fn in (("0001_initial", schema.m0001_initial),
                     ("0002_list_order_indexes", schema.m0002_list_order_indexes),
                     ("0003_upvotes_order_indexes", schema.m0003_upvotes_order_indexes)):
        old(name=name)(fn)
    old.apply(Database(conn))
    conn.execute("PRAGMA user_version = 3")
    conn.close()
    with Library.open(library_dir) as lib:
        lib.import_paths([DIGEST_PLAIN, DIGEST_ALTERNATING], today=TODAY)
        pid = lib.paper_ids(limit=1)[0]
        lib.star([pid])
        lib.notes.set(pid, "kept")
        lib.undo()
        lib.undo()
        # Make it look written before 0005 (no origins, no stamps, revisions tied to papers).
        lib.conn.execute("UPDATE operations SET origin = '', stamp = 0")
        lib.conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0005_operation_origin'")
        lib.conn.executescript(
            "CREATE TABLE nr AS SELECT * FROM note_revisions; DROP TABLE note_revisions;"
            "CREATE TABLE note_revisions (id INTEGER PRIMARY KEY, paper_id TEXT NOT NULL "
            "REFERENCES papers(id) ON DELETE CASCADE, body TEXT NOT NULL, saved_at TEXT NOT NULL);"
            "INSERT INTO note_revisions SELECT * FROM nr; DROP TABLE nr;"
            "DROP INDEX operations_stamp; DROP INDEX operations_origin;"
            "ALTER TABLE operations DROP COLUMN origin; ALTER TABLE operations DROP COLUMN stamp;"
            "PRAGMA user_version = 3;")
    with Library.open(library_dir) as lib:
        assert lib.redo()[0].label.startswith("Star")  # the star was undone last: it comes first
        assert lib.redo()[0].kind == "note"
        assert lib.notes.get(pid) == "kept"
        fk = lib.conn.execute("PRAGMA foreign_key_list(note_revisions)").fetchall()
        assert fk == []  # revisions outlive an undone import of their paper
        assert [r.body for r in lib.notes.history(pid)] == ["kept"]


# -- the command line ----------------------------------------------------------------------------
def run(library, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(library), *args],
                          capture_output=True, text=True, input=stdin, timeout=60,
                          env={**os.environ, "PYTHONWARNINGS": "error"})


def lib_first_id(library_dir) -> str:
    with Library.open(library_dir) as lib:
        return lib.paper_ids(limit=1)[0]


def test_cli_undo_names_the_operation_and_asks_for_yes(library_dir):
    with Library.open(library_dir) as lib:
        lib.origin = "desk:abc"
        lib.import_paths([DIGEST_PLAIN], today=TODAY)
    proc = run(library_dir, "undo", stdin="y\n")  # not a terminal: a typed "y" is not enough
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr == ("paperdesk: not undone: the last operation is Import "
                           "hf-daily-papers-mar-18.txt (79 papers, 79 new), made in the desk just now; "
                           "run `paperdesk undo --yes` to undo it\n")
    with Library.open(library_dir) as lib:
        assert lib.stats()["papers"] == 79  # nothing undone
    proc = run(library_dir, "undo", "--yes")
    assert proc.returncode == 0
    assert proc.stdout == "undid: Import hf-daily-papers-mar-18.txt (79 papers, 79 new)\n"
    assert run(library_dir, "redo").returncode == 1
    assert run(library_dir, "redo", "-y").returncode == 0
    pid = lib_first_id(library_dir)
    assert run(library_dir, "star", pid).returncode == 0
    assert run(library_dir, "undo", "--yes").stdout.startswith("undid: Star")
    assert run(library_dir, "tag", pid, "x").returncode == 0  # a new command's change ends the redo stack
    assert "nothing to redo" in run(library_dir, "redo", "--yes").stderr
    history = run(library_dir, "history").stdout
    assert "Import hf-daily-papers-mar-18.txt (79 papers, 79 new) (made in the desk)" in history


def test_cli_undo_confirms_on_a_terminal(library_dir):
    """On a terminal the question is asked; anything but y leaves the library alone."""
    import pty

    with Library.open(library_dir) as lib:
        lib.import_paths([DIGEST_PLAIN], today=TODAY)
        pid = lib.paper_ids(limit=1)[0]
        lib.star([pid])

    def answer(text: str) -> str:
        pid_, fd = pty.fork()
        if pid_ == 0:  # the child: paperdesk undo on the terminal
            os.execv(sys.executable, [sys.executable, "-m", "paperdesk", "--library",
                                      str(library_dir), "undo"])
        out = b""
        while b"[y/N]" not in out:
            out += os.read(fd, 1024)
        os.write(fd, text.encode() + b"\n")
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        os.waitpid(pid_, 0)
        os.close(fd)
        return out.decode()

    said = answer("n")
    assert "Undo: Star " in said and "not undone" in said
    with Library.open(library_dir) as lib:
        assert lib.get(pid)["starred"] is True
    said = answer("y")
    assert "undid: Star " in said
    with Library.open(library_dir) as lib:
        assert lib.get(pid)["starred"] is False


def test_no_note_revision_is_lost_in_random_undo_and_redo(lib):
    """A seeded random run of imports, note edits, autosaves, stars, undos and redos (the attack
    that lost 49 of 70 revisions): every revision ever saved is still there at the end."""
    import random

    from paperdesk.core.records import IncomingPaper, SourceBatch

    rng = random.Random(18)
    saved: set[tuple[str, str]] = set()
    for step in range(400):
        ids = lib.paper_ids(order="added", limit=6)
        roll = rng.random()
        if roll < 0.2 or not ids:
            papers = [IncomingPaper(title=f"Paper {step} number {n}") for n in range(3)]
            lib.import_batch(SourceBatch("digest", f"d{step}", f"/d{step}", "2026-11-01", f"h{step}", papers))
        elif roll < 0.5:
            pid = rng.choice(ids)
            body = f"note {step}"
            lib.notes.set(pid, body, autosave=rng.random() < 0.5)
            saved.add((pid, body))
        elif roll < 0.6:
            lib.star([rng.choice(ids)], rng.random() < 0.5)
        elif roll < 0.8:
            for _ in range(rng.randint(1, 5)):
                lib.undo()
        else:
            for _ in range(rng.randint(1, 5)):
                lib.redo()
    kept = set(lib.conn.execute("SELECT paper_id, body FROM note_revisions").fetchall())
    assert len(saved) > 80 and saved <= kept


def test_changes_since_names_what_other_processes_did_and_not_the_asker(desk):
    """The desk polls `changes_since` so that a cron import or a command in a shell reaches its
    list and sidebar; its own operations (and its feed refreshes') reach it already."""
    lib, other = desk
    mine = [lib.origin, f"refresh:{lib.origin}"]
    start, nothing = lib.changes_since(None, mine)
    assert not nothing
    other.import_paths([DIGEST_PLAIN], today=TODAY)
    stamp, changes = lib.changes_since(start, mine)
    new = set(other.paper_ids())
    assert stamp > start and changes.added == new and changes.sources and not changes.removed
    assert lib.changes_since(stamp, mine) == (stamp, type(changes)())  # nothing new since
    pid = sorted(new)[0]
    lib.star([pid])  # the asker's own: not reported
    other.tag([pid], ["from-shell"])
    other.highlights.add(pid, 0, 5)
    stamp2, changes = lib.changes_since(stamp, mine)
    assert changes.papers == {pid} and changes.tags and changes.notes and not changes.added
    lib.undo(own=True)  # the star first: the import's undo would overwrite it
    for _ in range(3):  # the other's highlight, tag and import
        other.undo(own=True)
    _, changes = lib.changes_since(stamp2, mine)
    assert changes.removed == new and changes.tags and changes.notes and not changes.added


def test_an_operation_too_big_to_list_says_everything_may_have_changed(desk, monkeypatch):
    """A snapshot import from the shell touches a million rows: the desk is told that anything may
    have changed, without reading them into sets of ids; smaller operations are still listed."""
    from paperdesk.core import ops

    lib, other = desk
    mine = [lib.origin]
    start, _ = lib.changes_since(None, mine)
    other.import_paths([DIGEST_PLAIN], today=TODAY)
    new = set(other.paper_ids())
    rows = lib.conn.execute("SELECT count(*) FROM op_rows WHERE op_id = (SELECT max(id) FROM operations)")
    monkeypatch.setattr(ops, "LISTED_ROWS", rows.fetchone()[0] - 1)  # the import is one row too big
    stamp, changes = lib.changes_since(start, mine)
    assert changes.everything and changes.tags and changes.sources and changes.notes
    assert not (changes.papers or changes.added or changes.removed)
    other.star([sorted(new)[0]])  # a small one after it: listed
    _, changes = lib.changes_since(stamp, mine)
    assert changes.papers == {sorted(new)[0]} and not changes.everything
    _, both = lib.changes_since(start, mine)
    assert both.everything and both.papers == {sorted(new)[0]}
