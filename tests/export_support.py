"""Helpers for the export tests (no tests here): papers with chosen titles, and notes and highlights
written the way the annotations code writes them (SQL inside one undoable operation)."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import unicodedata
from contextlib import closing
from pathlib import Path

from paperdesk.core.records import IncomingPaper, SourceBatch
from paperdesk.core.timeutil import now_iso

WINDOWS_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?", re.IGNORECASE)


def add_papers(lib, papers: list[IncomingPaper], name: str = "test-batch") -> list[str]:
    """Import `papers` as one source; return their ids in the given order."""
    digest = hashlib.sha256(repr([(p.title, p.arxiv_id) for p in papers]).encode()).hexdigest()
    report = lib.import_batch(SourceBatch(kind="digest", name=name, origin=name, date="2026-11-20",
                                          content_hash=digest, papers=papers))
    assert report.ok
    rows = lib.conn.execute("SELECT paper_id FROM provenance v JOIN sources s ON s.id = v.source_id "
                            "WHERE s.content_hash = ? ORDER BY v.position", (digest,)).fetchall()
    return [r[0] for r in rows]


def set_note(lib, paper_id: str, body: str) -> None:
    with lib.operation("note", f"Note {paper_id}") as rec:
        rec.touch("notes", [paper_id])
        lib.conn.execute(
            "INSERT INTO notes (paper_id, body, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (paper_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            (paper_id, body, now_iso()))


def add_highlight(lib, paper_id: str, quote: str, comment: str = "") -> None:
    with lib.operation("highlight", f"Highlight {paper_id}") as rec:
        abstract = lib.get(paper_id)["abstract"]
        start = max(abstract.find(quote), 0)
        new_id = lib.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM highlights").fetchone()[0]
        rec.touch("highlights", [new_id], fetch=False)
        lib.conn.execute(
            "INSERT INTO highlights (id, paper_id, field, quote, start, \"end\", color, comment, created_at) "
            "VALUES (?, ?, 'abstract', ?, ?, ?, 'yellow', ?, ?)",
            (new_id, paper_id, quote, start, start + len(quote), comment, now_iso()))


def insert_raw_paper(lib, paper_id: str, title: str) -> None:
    """A paper whose title the importer would refuse (punctuation only), as a damaged library might hold."""
    with lib.transaction() as conn:
        conn.execute("INSERT INTO papers (id, title, title_norm, added_at, updated_at) "
                     "VALUES (?, ?, '', ?, ?)", (paper_id, title, now_iso(), now_iso()))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (recursively), by relative path; the export manifest (SQLite,
    whose bytes depend on how its transactions went) as its rows."""
    from paperdesk.core.export.manifest import MANIFEST_NAME

    files = {}
    for path in sorted(folder.rglob("*")):
        if path.name == MANIFEST_NAME:
            with closing(sqlite3.connect(path)) as conn:
                rows = [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("papers", "lists")]
            files[str(path.relative_to(folder))] = repr(rows).encode()
        elif path.is_file():
            files[str(path.relative_to(folder))] = path.read_bytes()
    return files


def assert_portable_name(name: str) -> None:
    """Valid on Windows, macOS and Linux."""
    assert name == unicodedata.normalize("NFC", name)
    assert not re.search(r'[/\\:*?"<>|\x00-\x1f\x7f]', name), name
    assert not any(unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp") for ch in name), name
    stem = name.removesuffix(".md")
    assert stem and stem == stem.strip(" .") and not stem.startswith("."), name
    assert not WINDOWS_RESERVED.fullmatch(stem.split(".")[0].strip()), name
    assert len(name.encode("utf-8")) <= 255 and len(name) <= 200, name
