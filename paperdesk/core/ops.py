"""The operation log: every user change is one operation that can be undone and redone.

At "do" time an operation stores, for every row it touches, the row as it was before (NULL if
the row did not exist). Undo captures the row as it is now (for redo) and restores the old one;
redo does the reverse. Because undo and redo are strictly linear, "as it is now" is always the
state the operation left, so nothing but the keys and the prior rows is written while working,
which keeps a 100k-paper import cheap.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from paperdesk.core.changes import Changes
from paperdesk.core.timeutil import now_iso

# Primary-key columns of every table an operation may touch.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "papers": ("id",),
    "sources": ("id",),
    "provenance": ("paper_id", "source_id"),
    "tags": ("paper_id", "tag"),
    "notes": ("paper_id",),
    "highlights": ("id",),
    "saved_searches": ("name",),
    "feeds": ("id",),
}


@dataclass(frozen=True)
class Operation:
    id: int
    kind: str
    label: str
    created_at: str
    undone: bool


class OpRecorder:
    """Collects the prior state of rows touched inside one operation's transaction."""

    def __init__(self, conn: sqlite3.Connection, kind: str, label: str):
        self.conn = conn
        # Starting a new operation drops the redo stack, as every editor does.
        conn.execute("DELETE FROM operations WHERE undone = 1")
        cur = conn.execute(
            "INSERT INTO operations (kind, label, created_at) VALUES (?, ?, ?)",
            (kind, label, now_iso()),
        )
        self.op_id = int(cur.lastrowid or 0)
        self._seq = 0
        self._seen: set[tuple[str, str]] = set()

    def touch(self, table: str, key: Sequence[object], before: dict | None = None,
              *, fetch: bool = True) -> None:
        """Remember the row `key` of `table` as it is now (call before changing it).

        Pass `before` when the caller already read the row, or fetch=False for a row known
        not to exist yet.
        """
        key_json = json.dumps(list(key))
        if (table, key_json) in self._seen:
            return  # the first touch holds the true prior state
        self._seen.add((table, key_json))
        if before is None and fetch:
            before = fetch_row(self.conn, table, key)
        self._seq += 1
        self.conn.execute(
            "INSERT INTO op_rows (op_id, seq, tbl, key, before) VALUES (?, ?, ?, ?, ?)",
            (self.op_id, self._seq, table, key_json,
             json.dumps(before) if before is not None else None),
        )

    def touch_many_new(self, table: str, keys: Iterable[Sequence[object]]) -> None:
        """Record rows that the operation creates (they did not exist before)."""
        rows = []
        for key in keys:
            key_json = json.dumps(list(key))
            if (table, key_json) in self._seen:
                continue
            self._seen.add((table, key_json))
            self._seq += 1
            rows.append((self.op_id, self._seq, table, key_json))
        self.conn.executemany(
            "INSERT INTO op_rows (op_id, seq, tbl, key, before) VALUES (?, ?, ?, ?, NULL)", rows
        )

    @property
    def empty(self) -> bool:
        return self._seq == 0

    def discard(self) -> None:
        self.conn.execute("DELETE FROM operations WHERE id = ?", (self.op_id,))


def fetch_row(conn: sqlite3.Connection, table: str, key: Sequence[object]) -> dict | None:
    cols = TABLE_KEYS[table]
    where = " AND ".join(f"{c} = ?" for c in cols)
    cur = conn.execute(f"SELECT * FROM {table} WHERE {where}", tuple(key))
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def _put_row(conn: sqlite3.Connection, table: str, key: Sequence[object], row: dict | None) -> None:
    """Make the row `key` equal to `row` (or absent), without REPLACE's cascading delete."""
    cols = TABLE_KEYS[table]
    if row is None:
        where = " AND ".join(f"{c} = ?" for c in cols)
        conn.execute(f"DELETE FROM {table} WHERE {where}", tuple(key))
        return
    names = list(row)
    updates = ", ".join(f"{n} = excluded.{n}" for n in names if n not in cols) or f"{cols[0]} = {cols[0]}"
    conn.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
        f"ON CONFLICT ({', '.join(cols)}) DO UPDATE SET {updates}",
        [row[n] for n in names],
    )


def _changes_for(rows: list[tuple[str, list]], created: set[str], removed: set[str]) -> Changes:
    papers: set[str] = set()
    tables = set()
    for table, key in rows:
        tables.add(table)
        if table in ("papers", "provenance", "tags", "notes", "highlights"):
            papers.add(str(key[0]))
    return Changes(
        papers=frozenset(papers - removed),
        added=frozenset(created),
        removed=frozenset(removed),
        tags="tags" in tables,
        sources="sources" in tables or "feeds" in tables,
        notes="notes" in tables or "highlights" in tables,
        saved_searches="saved_searches" in tables,
    )


def _replay(conn: sqlite3.Connection, op_id: int, *, undo: bool) -> Changes:
    rows = conn.execute(
        f"SELECT seq, tbl, key, before, after FROM op_rows WHERE op_id = ? "
        f"ORDER BY seq {'DESC' if undo else 'ASC'}",
        (op_id,),
    ).fetchall()
    touched: list[tuple[str, list]] = []
    created: set[str] = set()
    removed: set[str] = set()
    for seq, table, key_json, before_json, after_json in rows:
        key = json.loads(key_json)
        current = fetch_row(conn, table, key)
        target_json = before_json if undo else after_json
        target = json.loads(target_json) if target_json is not None else None
        column = "after" if undo else "before"
        conn.execute(
            f"UPDATE op_rows SET {column} = ? WHERE op_id = ? AND seq = ?",
            (json.dumps(current) if current is not None else None, op_id, seq),
        )
        _put_row(conn, table, key, target)
        if table == "highlights":  # keyed by highlight id: report the paper it belongs to
            row = target or current or {}
            touched.append((table, [row.get("paper_id", key[0])]))
        else:
            touched.append((table, key))
        if table == "papers":
            if target is None and current is not None:
                removed.add(str(key[0]))
            elif target is not None and current is None:
                created.add(str(key[0]))
    conn.execute("UPDATE operations SET undone = ? WHERE id = ?", (1 if undo else 0, op_id))
    return _changes_for(touched, created, removed)


def last_done(conn: sqlite3.Connection) -> Operation | None:
    row = conn.execute(
        "SELECT id, kind, label, created_at, undone FROM operations WHERE undone = 0 "
        "ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return Operation(*row[:4], bool(row[4])) if row else None


def first_undone(conn: sqlite3.Connection) -> Operation | None:
    row = conn.execute(
        "SELECT id, kind, label, created_at, undone FROM operations WHERE undone = 1 "
        "ORDER BY id ASC LIMIT 1"
    ).fetchone()
    return Operation(*row[:4], bool(row[4])) if row else None


def undo(conn: sqlite3.Connection, op: Operation) -> Changes:
    return _replay(conn, op.id, undo=True)


def redo(conn: sqlite3.Connection, op: Operation) -> Changes:
    return _replay(conn, op.id, undo=False)


def history(conn: sqlite3.Connection, limit: int = 200) -> list[Operation]:
    rows = conn.execute(
        "SELECT id, kind, label, created_at, undone FROM operations ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [Operation(*r[:4], bool(r[4])) for r in rows]
