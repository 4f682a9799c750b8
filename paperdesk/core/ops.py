"""The operation log: every user change is one operation that can be undone and redone.

At "do" time an operation stores, for every row it touches, the row as it was before (NULL if
the row did not exist). Undo captures the row as it is now (for redo) and restores the old one;
redo does the reverse. Because undo and redo are strictly linear, "as it is now" is always the
state the operation left, so nothing but the keys and the prior rows is written while working,
which keeps a 100k-paper import cheap. An operation that changes a few columns of rows that stay
(star, archive, mark read) stores only those columns (`touch(..., columns=…)`): a whole paper row
with its abstract is ~2 KB, and a library where 300k papers were archived kept 1.7 GB of them.

Origins: every operation records who made it (`Library.origin`: the desk's session, a CLI process,
a feed refresh). The desk undoes only its own operations; the CLI names the operation it is about
to undo. Because undo is then no longer strictly linear, each operation also has a `stamp` (a
counter bumped whenever it is done, undone or redone), and an undo or redo that would overwrite a
later change to the same rows is refused (`conflict`), naming that change.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from paperdesk.core import abstract_text
from paperdesk.core.changes import Changes
from paperdesk.core.idlist import IDS, id_array
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
    "rules": ("name",),
    "pdfs": ("paper_id",),  # a paper's PDF (its file stays while an operation refers to it)
    "pdf_texts": ("paper_id",),
    "settings": ("key",),  # only a paper's own rows (PAPER_SETTINGS), taken in when it is removed
}

# Settings rows that belong to one paper (the prefix + its id; no foreign key can say so): an
# undo that removes the paper takes them into the operation as rows it made, so they go with the
# paper and a redo brings them back (`_take_paper_settings`).
PAPER_SETTINGS = ("reading_place:",)  # core/pdf/reading_place.py


@dataclass(frozen=True)
class Operation:
    id: int
    kind: str
    label: str
    created_at: str
    undone: bool
    origin: str = ""
    stamp: int = 0


OP_COLUMNS = "id, kind, label, created_at, undone, origin, stamp"


def _operation(row: Sequence) -> Operation:
    return Operation(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6])


def next_stamp(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(stamp), 0) + 1 FROM operations").fetchone()[0])


def drop_redo_stack(conn: sqlite3.Connection, origin: str) -> None:
    """A new change drops its maker's redo stack, as every editor does (the command line counts as
    one maker: each command is a process of its own). Other makers' undone operations stay; redoing
    one that this change touches is refused later (see `conflict`)."""
    if origin.startswith("cli:"):
        conn.execute("DELETE FROM operations WHERE undone = 1 AND origin LIKE 'cli:%'")
    else:
        conn.execute("DELETE FROM operations WHERE undone = 1 AND origin = ?", (origin,))


class OpRecorder:
    """Collects the prior state of rows touched inside one operation's transaction."""

    def __init__(self, conn: sqlite3.Connection, kind: str, label: str, origin: str = ""):
        self.conn = conn
        drop_redo_stack(conn, origin)
        cur = conn.execute(
            "INSERT INTO operations (kind, label, created_at, origin, stamp) VALUES (?, ?, ?, ?, ?)",
            (kind, label, now_iso(), origin, next_stamp(conn)),
        )
        self.op_id = int(cur.lastrowid or 0)
        self._seq = 0
        self._seen: set[tuple[str, str]] = set()
        self.changes = Changes()  # what the operation changed, for the library's listeners

    def changed(self, changes: Changes) -> None:
        """Add to what listeners hear once the operation has committed."""
        self.changes = self.changes | changes

    def touch(self, table: str, key: Sequence[object], before: dict | None = None,
              *, fetch: bool = True, columns: Sequence[str] = ()) -> None:
        """Remember the row `key` of `table` as it is now (call before changing it).

        Pass `before` when the caller already read the row, or fetch=False for a row known
        not to exist yet. `columns`: the operation changes only these of a row that exists and
        stays; only they are kept (undo and redo set just them).
        """
        key_json = json.dumps(list(key))
        if (table, key_json) in self._seen:
            return  # the first touch holds the true prior state
        self._seen.add((table, key_json))
        if before is None and fetch:
            before = fetch_row(self.conn, table, key)
        if columns and before is not None:
            before = {c: before[c] for c in columns}
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
    found = dict(zip([d[0] for d in cur.description], row, strict=True))
    # The undo log is JSON: a paper's abstract is kept as its text (put_row stores it encoded).
    return abstract_text.decoded(found) if table == "papers" else found


def _partial(table: str, row: dict | None) -> bool:
    """A stored row of some columns only (`touch(columns=…)`): whole rows always hold their key."""
    return row is not None and TABLE_KEYS[table][0] not in row


def put_row(conn: sqlite3.Connection, table: str, key: Sequence[object], row: dict | None) -> None:
    """Make the row `key` equal to `row` (or absent), without REPLACE's cascading delete; a
    partial row sets just its columns."""
    cols = TABLE_KEYS[table]
    if table == "papers" and row is not None and "abstract" in row:
        row = {**row, "abstract": abstract_text.encode(row["abstract"] or "")}
    if _partial(table, row):
        assert row is not None
        conn.execute(f"UPDATE {table} SET {', '.join(f'{n} = ?' for n in row)} "
                     f"WHERE {' AND '.join(f'{c} = ?' for c in cols)}", [*row.values(), *key])
        return
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
        if table in ("papers", "provenance", "tags", "notes", "highlights", "pdfs", "pdf_texts"):
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


def replay(conn: sqlite3.Connection, op_id: int, *, undo: bool) -> Changes:
    """Undo (or redo) operation `op_id` inside the caller's transaction."""
    if undo:
        _take_paper_settings(conn, op_id)
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
        if _partial(table, target) and current is not None:  # keep the same columns for the way back
            current = {c: current[c] for c in target}
        column = "after" if undo else "before"
        conn.execute(
            f"UPDATE op_rows SET {column} = ? WHERE op_id = ? AND seq = ?",
            (json.dumps(current) if current is not None else None, op_id, seq),
        )
        put_row(conn, table, key, target)
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
    # A PDF put back: its highlights were placed on the other file; extracting again re-locates them.
    conn.executemany(
        "UPDATE pdfs SET text_state = 'pending' WHERE paper_id = ? AND text_state = 'done' "
        "AND EXISTS (SELECT 1 FROM highlights WHERE paper_id = ? AND field = 'pdf')",
        [(key[0], key[0]) for table, key in touched if table == "pdfs"])
    conn.execute("UPDATE operations SET undone = ?, stamp = ? WHERE id = ?",
                 (1 if undo else 0, next_stamp(conn), op_id))
    return _changes_for(touched, created, removed)


def _take_paper_settings(conn: sqlite3.Connection, op_id: int) -> None:
    """Before undoing an operation that made papers (an import): their settings rows join it as
    rows it made (no prior state), so the undo removes them with the papers, keeps them for redo,
    and a redo puts them back."""
    made = [json.loads(key)[0] for (key,) in conn.execute(
        "SELECT key FROM op_rows WHERE op_id = ? AND tbl = 'papers' AND before IS NULL", (op_id,))]
    if not made:
        return
    keys = [prefix + pid for prefix in PAPER_SETTINGS for pid in made]
    found = [json.dumps([key]) for (key,) in conn.execute(
        f"SELECT key FROM settings WHERE key IN {IDS}", (id_array(keys),))]
    if not found:
        return
    have = {key for (key,) in conn.execute(
        "SELECT key FROM op_rows WHERE op_id = ? AND tbl = 'settings'", (op_id,))}
    seq = conn.execute("SELECT coalesce(max(seq), 0) FROM op_rows WHERE op_id = ?", (op_id,)).fetchone()[0]
    conn.executemany("INSERT INTO op_rows (op_id, seq, tbl, key, before) VALUES (?, ?, 'settings', ?, NULL)",
                     [(op_id, seq + n, key) for n, key in enumerate((k for k in found if k not in have), 1)])


# An operation of another process touching more rows than this is not listed paper by paper:
# `Changes.everything` (a 50k-paper import's rows took ~330 ms to read and ~10 MB of sets; a 1M
# snapshot import's would take seconds and hold every id).
LISTED_ROWS = 20_000
EVERYTHING = Changes(everything=True, tags=True, sources=True, notes=True, saved_searches=True)


def changes_since(conn: sqlite3.Connection, stamp: int | None,
                  mine: Sequence[str]) -> tuple[int, Changes]:
    """What the operations done, undone or redone since `stamp` by origins other than `mine`
    changed (another process: a cron import, `paperdesk star` in a shell), and the newest stamp.
    `stamp` None: only the newest stamp (where to start)."""
    newest = conn.execute("SELECT coalesce(max(stamp), 0) FROM operations").fetchone()[0]
    if stamp is None or newest <= stamp:
        return newest, Changes()
    changes = Changes()
    for op_id, undone in conn.execute(
            "SELECT id, undone FROM operations WHERE stamp > ? AND origin NOT IN "
            "(SELECT value FROM json_each(?))", (stamp, json.dumps(list(mine)))).fetchall():
        listed = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM op_rows WHERE op_id = ? "
                              f"LIMIT {LISTED_ROWS + 1})", (op_id,)).fetchone()[0]
        if listed > LISTED_ROWS:
            changes |= EVERYTHING
            continue
        touched: list[tuple[str, list]] = []
        created: set[str] = set()
        # A paper row without a prior state is one the operation made: there while it is done.
        for table, key_json, made, row_json in conn.execute(
                "SELECT tbl, key, before IS NULL, CASE tbl WHEN 'highlights' THEN coalesce(after, before) "
                "END FROM op_rows WHERE op_id = ?", (op_id,)):
            key = json.loads(key_json)
            if table == "highlights":  # keyed by its own id: name its paper
                row = json.loads(row_json) if row_json else fetch_row(conn, table, key)
                key = [row["paper_id"]] if row else []
            if key:
                touched.append((table, key))
            if table == "papers" and made:
                created.add(str(key[0]))
        changes |= _changes_for(touched, set() if undone else created, created if undone else set())
    return newest, changes


def latest(conn: sqlite3.Connection, *, undone: bool, origin: str | None = None) -> Operation | None:
    """The operation undo (undone=False) or redo (undone=True) would take: the one most recently
    done or undone, by anyone or (with `origin`) by that maker only."""
    sql = f"SELECT {OP_COLUMNS} FROM operations WHERE undone = ?"
    params: list[object] = [1 if undone else 0]
    if origin is not None:
        sql += " AND origin = ?"
        params.append(origin)
    row = conn.execute(sql + " ORDER BY stamp DESC LIMIT 1", params).fetchone()
    return _operation(row) if row else None


def get(conn: sqlite3.Connection, op_id: int) -> Operation | None:
    row = conn.execute(f"SELECT {OP_COLUMNS} FROM operations WHERE id = ?", (op_id,)).fetchone()
    return _operation(row) if row else None


def conflict(conn: sqlite3.Connection, op: Operation) -> Operation | None:
    """A change made since `op` was last done or undone that undoing (or redoing) it would
    overwrite: one that shares a row with it and is still in effect. None: safe.

    Per row, the operations touching it must stay "done ones, then undone ones" in id order.
    Since `op`'s stamp: a done newer operation changed the rows (for undo and redo); for redo,
    an older one undone since then did too. A newer one undone again, or an older one redone,
    left the rows as they were."""
    later = conn.execute(f"SELECT {OP_COLUMNS} FROM operations WHERE stamp > ? ORDER BY stamp DESC",
                         (op.stamp,)).fetchall()
    harmful = {o.id: o for o in map(_operation, later)
               if (not o.undone and o.id > op.id) or (o.undone and op.undone and o.id < op.id)}
    if not harmful:
        return None
    mine = set(conn.execute("SELECT tbl, key FROM op_rows WHERE op_id = ?", (op.id,)).fetchall())
    for op_id, table, key in conn.execute(
            f"SELECT op_id, tbl, key FROM op_rows WHERE op_id IN {IDS}", (id_array(harmful),)):
        if (table, key) in mine:
            return harmful[op_id]
    return None


def feeds_of(conn: sqlite3.Connection, op_id: int) -> set[int]:
    """Feeds whose imports this operation holds (their validators must go when it is undone)."""
    found = set()
    for before, after in conn.execute(
            "SELECT before, after FROM op_rows WHERE op_id = ? AND tbl = 'sources'", (op_id,)):
        for text in (before, after):
            feed_id = json.loads(text).get("feed_id") if text else None
            if feed_id is not None:
                found.add(int(feed_id))
    return found


def history(conn: sqlite3.Connection, limit: int = 200) -> list[Operation]:
    rows = conn.execute(f"SELECT {OP_COLUMNS} FROM operations ORDER BY id DESC LIMIT ?",
                        (limit,)).fetchall()
    return [_operation(r) for r in rows]
