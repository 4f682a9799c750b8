"""How `papers.abstract` is stored: the one place that encodes and decodes it.

An abstract is ~1.4 KB, half of what a paper costs the database. It is kept as a zlib BLOB when
that is smaller (54% of the text on bench_search's papers, 52% on real arXiv abstracts), else as
the plain TEXT (a short abstract, or one that does not shrink). The column's type says which:
a BLOB is compressed, TEXT is the text itself, so rows written before 0015 read as they are and a
library in the middle of that migration reads whole. A preset dictionary would keep 38% but
becomes a resource every future version must carry unchanged; plain zlib reaches the 4 GB goal
(ARCHITECTURE.md, the database's byte budget).

Readers decode: Python with `decode`, SQL with the function `abstract_text(abstract)`, which
`register` adds to every connection that reads papers. Writers encode (`store.merge_batch`,
`ops.put_row`); undo keeps the decoded text in its JSON (`ops.fetch_row`).
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable

SQL_FUNCTION = "abstract_text"
LEVEL = 6  # zlib's default: level 9 kept the same bytes on bench_search's abstracts
SHORTEST = 64  # UTF-8 bytes: below this zlib's 6 bytes of header and checksum rarely pay


def encode(text: str) -> str | bytes:
    """The value to store for `text`: compressed bytes when they are smaller, else the text."""
    data = text.encode("utf-8")
    if len(data) < SHORTEST:
        return text
    packed = zlib.compress(data, LEVEL)
    return packed if len(packed) < len(data) else text


def decode(value: str | bytes | None) -> str:
    """The abstract a stored value holds (NULL reads as no abstract)."""
    if isinstance(value, bytes):
        try:
            return zlib.decompress(value).decode("utf-8")
        except (zlib.error, UnicodeDecodeError):  # damaged (or written by another program):
            return ""  # read as no abstract, which the paper's next sighting fills in (merged_fields)
    return value or ""


def register(conn: sqlite3.Connection) -> None:
    """Make `abstract_text(abstract)` usable in this connection's SQL."""
    conn.create_function(SQL_FUNCTION, 1, decode, deterministic=True)


def decoded(row: dict) -> dict:
    """`row` (a papers row as a dict) with its abstract as text, if it has that column."""
    if "abstract" in row:
        row["abstract"] = decode(row["abstract"])
    return row


BATCH = 2000  # papers a transaction of `compress_stored` (~3 MB of text; a commit every ~0.1-0.3 s)


def compress_stored(conn: sqlite3.Connection,
                    progress: Callable[[int, int, str], None] | None = None) -> int:
    """Encode the abstracts stored as plain text (a library from before 0015), BATCH papers a
    transaction in rowid order, telling `progress` after each; returns the bytes they shrank by.

    Killed midway, the committed batches stay encoded and the rest plain: both read the same, and
    running it again goes over what is left. The bytes freed stay inside the table's pages
    (rewriting them all is a VACUUM: `paperdesk compact`)."""
    total = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    done = saved = last = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            rows = conn.execute("SELECT rowid, abstract FROM papers WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                (last, BATCH)).fetchall()
            packed = [(value, rowid) for rowid, text in rows
                      if isinstance(text, str) and isinstance(value := encode(text), bytes)]
            conn.executemany("UPDATE papers SET abstract = ? WHERE rowid = ?", packed)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if not rows:
            return saved
        texts = dict(rows)
        saved += sum(len(texts[rowid].encode()) - len(value) for value, rowid in packed)
        last, done = rows[-1][0], done + len(rows)
        if progress:
            progress(min(done, total), total, "Compressing the abstracts")
