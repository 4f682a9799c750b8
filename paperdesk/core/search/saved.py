"""Saved searches: named queries kept in the library (undoable, like every user change)."""

from __future__ import annotations

import sqlite3

from paperdesk.core.ops import OpRecorder
from paperdesk.core.timeutil import now_iso


def list_saved(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    return [(n, q) for n, q in conn.execute("SELECT name, query FROM saved_searches ORDER BY name")]


def clean_name(name: str) -> str:
    return " ".join((name or "").split())


def put_saved(conn: sqlite3.Connection, rec: OpRecorder, name: str, query: str) -> bool:
    """Add or replace; False if the same query was already saved under that name."""
    row = conn.execute("SELECT query FROM saved_searches WHERE name = ?", (name,)).fetchone()
    if row is not None and row[0] == query:
        return False
    rec.touch("saved_searches", [name])
    conn.execute(
        "INSERT INTO saved_searches (name, query, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET query = excluded.query", (name, query, now_iso()))
    return True


def delete_saved(conn: sqlite3.Connection, rec: OpRecorder, name: str) -> bool:
    if conn.execute("SELECT 1 FROM saved_searches WHERE name = ?", (name,)).fetchone() is None:
        return False
    rec.touch("saved_searches", [name])
    conn.execute("DELETE FROM saved_searches WHERE name = ?", (name,))
    return True
