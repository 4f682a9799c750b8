"""The export folder on disk: atomic writes, and which file holds which paper (the manifest,
what PaperDesk wrote there last, is manifest.py)."""

from __future__ import annotations

import filecmp
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from paperdesk.core.export.filenames import name_key
from paperdesk.core.export.frontmatter import FrontMatterError, split_document
from paperdesk.core.export.manifest import transaction
from paperdesk.core.export.report import ExportError
from paperdesk.core.idlist import IDS, id_array

SCAN_BATCH = 2000  # folder entries read between two writes of the scratch tables
MAX_NOTE_BYTES = 16 * 1024 * 1024  # bigger .md files are not PaperDesk's and are not read


class ChangedMeanwhile(Exception):
    """The file changed on disk between reading and writing it (an editor saved it)."""


def atomic_write(path: Path, data: bytes, expect: bytes | None) -> None:
    """Write `data` to `path` via a temporary file in the same folder and os.replace, so a crash
    leaves the old or the new file, never half of one. `expect` is what the file held when it was
    read (None: it did not exist); if it changed since, nothing is written."""
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        current = None
    if current != expect:
        raise ChangedMeanwhile(f"{path.name} changed while exporting")
    _replace(path, lambda out, _tmp: out.write(data) is not None, replacing=current is not None)


def file_state(path: Path) -> tuple[int, int, int] | None:
    """What tells that a file changed (size, modification time, inode); None if it does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino


def atomic_write_pieces(path: Path, pieces: Iterable[bytes], expect: tuple[int, int, int] | None) -> bool:
    """`atomic_write` for output made piece by piece (a BibTeX file of a million entries): the pieces
    go to a temporary file beside `path`, which replaces `path` only once complete, so an error or a
    cancel midway (raised by `pieces`) leaves the old file as it was. `expect` is `file_state(path)`
    from when the export began; if the file changed since, nothing is written. Returns False when
    the file already held exactly these bytes (it is left untouched)."""
    def fill(out: BinaryIO, tmp: Path) -> bool:
        for piece in pieces:
            out.write(piece)
        out.flush()
        if file_state(path) != expect:
            raise ChangedMeanwhile(f"{path.name} changed while exporting")
        return expect is None or expect[0] != out.tell() or not filecmp.cmp(tmp, path, shallow=False)

    return _replace(path, fill, replacing=expect is not None)


def _replace(path: Path, fill: Callable[[BinaryIO, Path], bool], replacing: bool) -> bool:
    """A temporary file beside `path`, written by `fill` (given the open file and its path), renamed
    over `path`; False (and `path` untouched) when `fill` says the old file already holds it. An
    error leaves no temporary file."""
    tmp = path.parent / f".paperdesk-{secrets.token_hex(8)}.tmp"
    # os.open with 0o666 lets the umask decide the mode, as for any new file the user creates
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            if not fill(out, tmp):
                tmp.unlink()
                return False
            out.flush()
            if replacing:
                # Replacing a file that may hold the user's text: make the new bytes durable before
                # the rename. A new file skips this (5x faster first exports); if power fails, a
                # truncated new file is reported as unmergeable by the next export, never overwritten.
                os.fsync(out.fileno())
        if replacing:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


class FolderIndex:
    """The folder as it is: every name in it (as `name_key`), and which Markdown file holds which
    paper id, kept in the export's scratch database (`manifest.py`) at one row per file: a folder
    of a million notes is rows on disk, not a set and a dict in memory. Scanning reads every .md
    file's front matter once (for 100k files: see tests/benchmarks/bench_export.py)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    @classmethod
    def scan(cls, folder: Path, conn: sqlite3.Connection) -> FolderIndex:
        conn.execute("CREATE TABLE folder_names (key TEXT PRIMARY KEY) WITHOUT ROWID")
        conn.execute("CREATE TABLE folder_papers (pid TEXT NOT NULL, name TEXT NOT NULL)")
        conn.execute("CREATE INDEX folder_papers_pid ON folder_papers (pid, name)")
        index = cls(conn)
        if not folder.is_dir():
            return index
        try:
            with os.scandir(folder) as entries:
                names: list[str] = []
                papers: list[tuple[str, str]] = []
                for entry in entries:
                    names.append(name_key(entry.name))
                    if entry.name.endswith(".md") and not entry.name.startswith("."):
                        pid = read_paper_id(Path(entry.path))
                        if pid is not None:
                            papers.append((pid, entry.name))
                    if len(names) >= SCAN_BATCH:
                        index._add(names, papers)
                index._add(names, papers)
        except OSError as exc:
            raise ExportError(f"cannot list {folder}: {exc.strerror}") from None
        return index

    def _add(self, names: list[str], papers: list[tuple[str, str]]) -> None:
        with transaction(self.conn):
            self.conn.executemany("INSERT OR IGNORE INTO folder_names VALUES (?)", ((k,) for k in names))
            self.conn.executemany("INSERT INTO folder_papers VALUES (?, ?)", papers)
        names.clear()
        papers.clear()

    def holders(self, ids: Iterable[str]) -> dict[str, list[str]]:
        """The files (sorted by name) that hold each of papers `ids` (a block), for those held."""
        held: dict[str, list[str]] = {}
        rows = self.conn.execute(f"SELECT pid, name FROM folder_papers WHERE pid IN {IDS} ORDER BY pid, name",
                                 (id_array(ids),))
        for pid, name in rows:
            held.setdefault(pid, []).append(name)
        return held

    def taken(self, key: str) -> bool:
        """Whether a file or folder whose `name_key` is `key` is in the folder."""
        return self.conn.execute("SELECT 1 FROM folder_names WHERE key = ?", (key,)).fetchone() is not None


def read_paper_id(path: Path) -> str | None:
    """The `id` in a Markdown file's front matter, if it is a readable PaperDesk paper file."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_NOTE_BYTES:
            return None
        text = path.read_bytes().decode("utf-8")
        if "paperdesk:begin" not in text:
            return None
        value = split_document(text).value("id")
    except (OSError, UnicodeDecodeError, FrontMatterError):
        return None
    return value if isinstance(value, str) else None
