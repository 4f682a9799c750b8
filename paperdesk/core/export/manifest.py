"""The export manifest: which file holds which paper, and fingerprints of what PaperDesk last wrote
there (every managed block, PaperDesk's front-matter values), so a re-export notices the user's
edits and renamed files.

It is a small SQLite file in the export folder, one row per paper (and per reading list), read a
block of papers at a time: a million papers' manifest is never in memory (as one JSON object it
was ~1 KB a paper, read and written whole). The manifest database is attached as `m` to a
connection whose own database is a temporary file (deleted when closed): the export keeps there
what it needs per paper (the ids, the folder's names, the names chosen), on disk, not in dicts.

Writes are transactions, committed a block of papers at a time, each row only after its file was
written: a crash or a cancel leaves the manifest as it was before that block (SQLite rolls back an
unfinished transaction), never half a row, and every committed row tells a file as it is on disk.
A folder with no manifest gets one only when the first file is recorded (built in a temporary
file, renamed into place); an old JSON manifest is read once and converted then (and removed).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from paperdesk.core.idlist import IDS, id_array

MANIFEST_NAME = ".paperdesk-export.sqlite3"
OLD_MANIFEST_NAME = ".paperdesk-export.json"  # the format before: one JSON object
FORMAT = 2  # PRAGMA user_version of the manifest (the JSON one said "version": 1)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS m.papers (id TEXT PRIMARY KEY, file TEXT NOT NULL, blocks TEXT NOT NULL,"
    " front TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS m.lists (file TEXT PRIMARY KEY, blocks TEXT NOT NULL, front TEXT NOT NULL)"
    " WITHOUT ROWID",
)


@dataclass
class Entry:
    """What the manifest remembers of one file (a paper's or a reading list's)."""

    file: str | None = None
    blocks: dict[str, str] = field(default_factory=dict)  # managed block -> digest, as last written
    front: dict[str, str] = field(default_factory=dict)  # front-matter key -> digest, as last written


class Manifest:
    """The manifest of one export folder, open for one export (see the module doc)."""

    def __init__(self, folder: Path, conn: sqlite3.Connection, in_folder: bool, problem: str | None):
        self.folder, self.conn, self.in_folder, self.problem = folder, conn, in_folder, problem
        self.failed = False  # could not be written: the export goes on without recording

    @classmethod
    def open(cls, folder: Path) -> Manifest:
        """The folder's manifest; a damaged or unreadable one reads as empty (`problem` says so)
        and is replaced when the export records its first file."""
        conn = sqlite3.connect("", isolation_level=None)  # transactions are begun explicitly
        path = folder / MANIFEST_NAME
        problem = None
        if path.is_symlink():  # written through, it would change a file elsewhere
            problem = f"{MANIFEST_NAME} is a symbolic link; it will be replaced"
        elif path.is_file():
            try:
                conn.execute("ATTACH DATABASE ? AS m", (str(path),))
                tables = {r[0] for r in conn.execute("SELECT name FROM m.sqlite_master WHERE type = 'table'")}
                if not {"papers", "lists"} <= tables:
                    raise sqlite3.DatabaseError("its tables are missing")
                conn.execute("SELECT id, file, blocks, front FROM m.papers LIMIT 1").fetchall()
                conn.execute("SELECT file, blocks, front FROM m.lists LIMIT 1").fetchall()
                return cls(folder, conn, True, None)
            except sqlite3.Error:
                problem = f"{MANIFEST_NAME} is damaged; it will be rewritten"
                if any(r[1] == "m" for r in conn.execute("PRAGMA database_list")):
                    conn.execute("DETACH DATABASE m")
        conn.execute("ATTACH DATABASE '' AS m")  # a temporary one, until a file is recorded
        for statement in SCHEMA:
            conn.execute(statement)
        manifest = cls(folder, conn, False, problem)
        if problem is None:
            manifest.problem = manifest._read_old()
        return manifest

    def _read_old(self) -> str | None:
        """Rows from an old JSON manifest, if the folder has one (read whole, once: the next
        export that records a file writes them into the SQLite manifest and removes the JSON)."""
        path = self.folder / OLD_MANIFEST_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            return f"{OLD_MANIFEST_NAME} could not be read ({exc}); it will be rewritten"
        try:
            data = json.loads(text)
            papers, lists = dict(data["papers"]), dict(data.get("lists", {}))
        except (ValueError, KeyError, TypeError):
            return f"{OLD_MANIFEST_NAME} is damaged; it will be rewritten"
        del text, data
        with transaction(self.conn):
            self.conn.executemany("INSERT OR REPLACE INTO m.papers VALUES (?, ?, ?, ?)", (
                (pid, name, *_fingerprints(entry)) for pid, entry in papers.items()
                if isinstance(entry, dict) and isinstance(name := entry.get("file"), str)))
            self.conn.executemany("INSERT OR REPLACE INTO m.lists VALUES (?, ?, ?)", (
                (name, *_fingerprints(entry)) for name, entry in lists.items() if isinstance(entry, dict)))
        return None

    # -- reading --------------------------------------------------------------------------------
    def papers(self, ids: Iterable[str]) -> dict[str, Entry]:
        """The entries of papers `ids` (a block of them) that the manifest has."""
        rows = self.conn.execute(f"SELECT id, file, blocks, front FROM m.papers WHERE id IN {IDS}",
                                 (id_array(ids),))
        return {pid: _entry(name, blocks, front) for pid, name, blocks, front in rows}

    def files(self) -> Iterator[tuple[str, str]]:
        """(paper id, file) of every paper the manifest has, in id order (read as they come)."""
        for pid, name in self.conn.execute("SELECT id, file FROM m.papers ORDER BY id"):
            if isinstance(name, str):
                yield pid, name

    def list_entry(self, name: str) -> Entry | None:
        row = self.conn.execute("SELECT file, blocks, front FROM m.lists WHERE file = ?", (name,)).fetchone()
        return _entry(*row) if row else None

    # -- writing --------------------------------------------------------------------------------
    def record_paper(self, pid: str, entry: Entry, was: Entry | None) -> None:
        """Remember what was just written (or found unchanged) in the file of paper `pid`; `was`
        is what the manifest held (a row that stays the same is not written again)."""
        self._record("INSERT OR REPLACE INTO m.papers VALUES (?, ?, ?, ?)",
                     (pid, entry.file, json.dumps(entry.blocks, sort_keys=True),
                      json.dumps(entry.front, sort_keys=True)), entry == was)

    def record_list(self, entry: Entry, was: Entry | None) -> None:
        self._record("INSERT OR REPLACE INTO m.lists VALUES (?, ?, ?)",
                     (entry.file, json.dumps(entry.blocks, sort_keys=True),
                      json.dumps(entry.front, sort_keys=True)), entry == was)

    def _record(self, sql: str, row: tuple, same: bool) -> None:
        """One row, in the block's transaction (begun here, ended by `commit`); none if the row is
        `same` as the folder's manifest holds (an unchanged re-export leaves the file as it was). If
        the manifest cannot be written, `problem` says why and the export goes on without it."""
        if self.failed or (same and self.in_folder):
            return
        try:
            if not self.in_folder:
                self._place_in_folder()
            if not self.conn.in_transaction:
                self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(sql, row)
        except (OSError, sqlite3.Error) as exc:
            self._fail(exc)

    def commit(self) -> None:
        """Make the rows recorded so far durable (at the end of each block and of the export)."""
        if self.conn.in_transaction and not self.failed:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self.failed = True
        self.problem = f"could not save the export manifest: {exc}"
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def _place_in_folder(self) -> None:
        """Copy the temporary manifest (empty, or an old JSON one's rows) into a new file beside
        the final one, rename it into place (over a damaged one) and use it from now on."""
        path = self.folder / MANIFEST_NAME
        tmp = self.folder / f".paperdesk-{secrets.token_hex(8)}.tmp"
        try:
            target = sqlite3.connect(tmp)
            try:
                self.conn.backup(target, name="m")
                target.execute(f"PRAGMA user_version = {FORMAT}")
                target.commit()
            finally:
                target.close()
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.conn.execute("DETACH DATABASE m")
        self.conn.execute("ATTACH DATABASE ? AS m", (str(path),))
        self.in_folder = True
        (self.folder / OLD_MANIFEST_NAME).unlink(missing_ok=True)  # its rows are in the new one

    def close(self) -> None:
        """Commit what was recorded (each row tells a file already written) and close."""
        self.commit()
        self.conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One transaction on `conn` (opened with isolation_level=None), or a part of the open one."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _fingerprints(entry: dict) -> tuple[str, str]:
    """An old JSON entry's blocks and front-matter fingerprints as the two JSON columns."""
    return json.dumps(_strings(entry.get("blocks")), sort_keys=True), \
        json.dumps(_strings(entry.get("front")), sort_keys=True)


def _strings(value: object) -> dict[str, str]:
    """The str -> str items of `value` if it is a dict (a hand-edited manifest may hold anything)."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _entry(name: object, blocks: object, front: object) -> Entry:
    def parsed(text: object) -> dict[str, str]:
        try:
            return _strings(json.loads(text)) if isinstance(text, str) else {}
        except ValueError:
            return {}

    return Entry(name if isinstance(name, str) else None, parsed(blocks), parsed(front))
