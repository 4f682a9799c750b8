"""Failures of the machine, each said in one line by the `paperdesk` command (a subprocess):
a full disk (and recovery once there is space), a read-only library folder, a damaged database,
two rebuilds at once, a rebuild killed with -9 (its workers go with it)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from samples import DIGEST_ALTERNATING, DIGEST_BLOCKS, DIGEST_PLAIN, ROOT, TODAY

from paperdesk.core import Library
from paperdesk.core.failures import DAMAGED, DISK_FULL, READ_ONLY, describe, kind
from paperdesk.core.library import write_transaction


def run(*args: str, library: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(library), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def start(*args: str, library: Path) -> subprocess.Popen:
    # No pipes: its workers inherit them, and reading to their end would wait for the workers.
    return subprocess.Popen([sys.executable, "-m", "paperdesk", "--library", str(library), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)


def one_line(proc: subprocess.CompletedProcess, *words: str) -> str:
    """The command failed with exactly one line on stderr, holding `words`."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll (as qtbot.waitUntil does) until `predicate()` holds or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def some_id(library: Path) -> str:
    with Library.open(library) as lib:
        return lib.paper_ids(limit=1)[0]


# -- the error mapping, on real errors ------------------------------------------------------------
def full_database(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "small.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute("PRAGMA max_page_count = 20")  # SQLite's own "disk": 20 pages
    return conn


def test_real_sqlite_and_os_errors_are_named(tmp_path):
    conn = full_database(tmp_path)
    with pytest.raises(sqlite3.OperationalError) as full:
        conn.execute("INSERT INTO t VALUES (zeroblob(200000))")
    assert kind(full.value) == DISK_FULL
    ro = sqlite3.connect(f"file:{tmp_path / 'small.sqlite3'}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as read_only:
        ro.execute("INSERT INTO t VALUES (1)")
    assert kind(read_only.value) == READ_ONLY
    (tmp_path / "junk.sqlite3").write_bytes(b"not a database at all" * 500)
    with pytest.raises(sqlite3.DatabaseError) as junk:
        sqlite3.connect(tmp_path / "junk.sqlite3").execute("SELECT * FROM sqlite_master")
    assert kind(junk.value) == DAMAGED
    with pytest.raises(OSError) as denied:
        os.open(tmp_path / "nowhere" / "x", os.O_RDONLY)
    assert kind(denied.value) is None  # a missing file is not the machine's fault
    assert kind(OSError(errno.ENOSPC, "No space left on device")) == DISK_FULL
    assert kind(OSError(errno.EROFS, "Read-only file system")) == READ_ONLY
    assert kind(ValueError("x")) is None


def test_a_file_we_may_not_read_is_named_not_the_library(tmp_path):
    """EACCES/EPERM count as read-only, but only the library's own files make it a read-only library."""
    library = tmp_path / "lib"
    elsewhere = PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "snap.jsonl"))
    assert describe(elsewhere, library) == f"{tmp_path / 'snap.jsonl'}: Permission denied"
    inside = PermissionError(errno.EACCES, "Permission denied", str(library / "library.sqlite3"))
    assert describe(inside, library).startswith(f"the library folder is read-only: {library}")
    assert describe(OSError(errno.EROFS, "Read-only file system"), library).startswith("the library folder")


def test_a_failed_write_raises_its_own_error_not_the_rollbacks(tmp_path):
    conn = full_database(tmp_path)
    with pytest.raises(sqlite3.OperationalError, match="full"), write_transaction(conn):
        for _ in range(100):
            conn.execute("INSERT INTO t VALUES (zeroblob(3000))")
    assert not conn.in_transaction
    conn.execute("PRAGMA max_page_count = 100000")  # space again: writes work
    with write_transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1


# -- a full disk, for real --------------------------------------------------------------------------
@contextlib.contextmanager
def small_disk(tmp_path: Path, size: str = "8m") -> Iterator[Path]:
    """A tmpfs of `size` (needs root: skipped otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"a small disk needs a tmpfs mount (root): {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave_kib: int) -> Path:
    free = os.statvfs(disk)
    room = free.f_bavail * free.f_frsize // 1024
    filler = disk / "filler"
    with open(filler, "wb") as f, contextlib.suppress(OSError):
        f.write(b"\0" * max(0, room - leave_kib) * 1024)
    return filler


def strays(index_dir: Path) -> list[str]:
    """Files in index/ that belong to no segment of the index."""
    from paperdesk.core.search.index import open_index
    from paperdesk.core.search.whoosh_internals import segment_ids

    ix = open_index(index_dir)
    live = segment_ids(ix)
    ix.close()
    keep = ("_MAIN_", "MAIN_WRITELOCK", "PAPERDESK_")
    return sorted(p.name for p in index_dir.iterdir()
                  if not p.name.startswith(keep) and not any(seg in p.name for seg in live))


@pytest.mark.parametrize("leave_kib", [1200, 700, 300])
def test_a_full_disk_says_so_in_one_line_and_recovers_when_there_is_space(tmp_path, leave_kib):
    # Room, once the filler goes, for the index of all 397 papers written beside the old one (a
    # merge) while the import's WAL is still there: ~6.5 MB since the postings files hold every list.
    with small_disk(tmp_path, "12m") as disk:
        library = disk / "lib"
        assert run("import", str(DIGEST_PLAIN), library=library).returncode == 0
        assert run("search", "model", library=library).returncode == 0  # an index exists
        filler = fill(disk, leave_kib)
        imported = run("import", str(DIGEST_BLOCKS), str(DIGEST_ALTERNATING), library=library)
        assert "Traceback" not in imported.stderr and "disk full" in imported.stderr
        assert all(line.startswith("paperdesk: ") for line in imported.stderr.splitlines())
        undo = run("undo", "--yes", library=library)
        assert "cannot rollback" not in undo.stderr and "Traceback" not in undo.stderr
        if undo.returncode:
            one_line(undo, "disk full")
        assert strays(library / "index") == []  # a failed index write leaves nothing behind
        filler.unlink()
        # Space again: everything works without a hand on index/.
        assert run("search", "model", library=library).returncode == 0
        check = run("index", "check", "--json", library=library)
        assert check.returncode == 0 and json.loads(check.stdout)["ok"], check.stdout + check.stderr
        again = run("import", str(DIGEST_BLOCKS), str(DIGEST_ALTERNATING), library=library)
        assert again.returncode == 0, again.stderr
        with Library.open(library) as lib:
            assert lib.search.run("is:inbox").total == lib.count()
            assert lib.conn.execute("SELECT count(*) FROM index_queue").fetchone()[0] == 0


# -- a read-only folder -----------------------------------------------------------------------------
def test_a_read_only_library_folder_is_said_in_one_line(tmp_path):
    with small_disk(tmp_path) as disk:
        library = disk / "lib"
        with Library.open(library) as lib:
            lib.import_paths([DIGEST_PLAIN], today=TODAY)
            assert lib.search.run("model").total > 0
        pid = some_id(library)
        # As a desk that is open leaves it: changes queued, the WAL beside the file.
        code = (f"import os, shutil\nfrom paperdesk.core import Library\n"
                f"lib = Library.open({str(library)!r})\nlib.conn.execute('PRAGMA wal_autocheckpoint = 0')\n"
                f"lib.tag([{pid!r}], ['queued'])\nshutil.copytree({str(library)!r}, {str(disk / 'copy')!r})\n"
                f"os._exit(0)\n")
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        library = disk / "copy"
        assert subprocess.run(["mount", "-o", "remount,ro", str(disk)]).returncode == 0
        for args in (["star", pid], ["tag", pid, "x"], ["archive", pid], ["undo", "--yes"],
                     ["index", "check"], ["index", "rebuild"], ["index", "update"],
                     ["import", str(DIGEST_BLOCKS)], ["note", pid, "--set", "hi"]):
            proc = run(*args, library=library)
            assert proc.returncode == 1 and "Traceback" not in proc.stderr, (args, proc.stderr)
            assert "read-only" in proc.stderr, (args, proc.stderr)
        for args in (["search", "model"], ["similar", pid]):  # what is indexed, with a warning
            proc = run(*args, library=library)
            assert proc.returncode == 0, (args, proc.stderr)
            assert proc.stderr.count("\n") == 1 and "read-only" in proc.stderr, proc.stderr
        listed = run("list", "--json", library=library)
        assert listed.returncode == 0 and listed.stderr == ""  # reading says nothing
        assert json.loads(listed.stdout)


# -- a damaged database -----------------------------------------------------------------------------
def test_a_damaged_database_is_named_with_how_to_restore_it(seeded):
    seeded.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path, library, pid = seeded.path, seeded.folder, seeded.paper_ids(limit=1)[0]
    seeded.close()
    backup = path.with_name(path.name + ".before-schema-4.bak")
    backup.write_bytes(path.read_bytes())
    with sqlite3.connect(path) as conn:  # the papers table's first page, somewhere in the file
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'papers'").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as f:  # garbage in that page
        f.seek((root - 1) * size)
        f.write(bytes(range(256)) * (size // 256))
    for args in (["list", "--json"], ["index", "check"], ["export", "bibtex", str(library / "x.bib")],
                 ["star", pid], ["note", pid, "--set", "hi"]):
        line = one_line(run(*args, library=library), "the library is damaged", str(path), ".recover")
        assert str(backup) in line


# -- rebuilds ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_library(tmp_path_factory) -> Path:
    """Enough papers for a rebuild in worker processes (parallel.MIN_PAPERS)."""
    sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))
    from synth_digests import write_digests

    from paperdesk.core.search import parallel

    folder = tmp_path_factory.mktemp("big")
    with Library.open(folder / "lib") as lib:
        lib.import_paths(write_digests(folder / "digests", parallel.MIN_PAPERS + 2000, per_file=1000))
    return folder / "lib"


def children(pid: int) -> list[int]:
    """Live child processes of `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            except (OSError, ValueError):
                continue
            if int(parent) == pid and state != "Z":
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


@needs_proc
def test_a_second_rebuild_says_another_is_running(big_library):
    first = start("index", "rebuild", library=big_library)
    try:
        assert wait_until(lambda: (big_library / "index.new").is_dir(), 60)
        line = one_line(run("index", "rebuild", library=big_library), "is writing the search index")
        assert f"process {first.pid}" in line
    finally:
        first.kill()
        first.wait()
    assert run("search", "model", library=big_library).returncode == 0  # the lock went with it


@needs_proc
def test_a_rebuild_killed_with_minus_9_takes_its_workers_along(big_library):
    rebuild = start("index", "rebuild", library=big_library)
    try:
        assert wait_until(lambda: len(children(rebuild.pid)) >= 2, 60)
        workers = children(rebuild.pid)
        # Into their work (past start-up): a worker's share takes tens of seconds here.
        wait_until(lambda: not any(alive(w) for w in workers), 2)
    finally:
        rebuild.send_signal(signal.SIGKILL)
        rebuild.wait()
    assert wait_until(lambda: not any(alive(w) for w in workers), 10), \
        [w for w in workers if alive(w)]
