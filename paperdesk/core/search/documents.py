"""The search document of a paper, read from SQLite (the truth); no Whoosh import here."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence

from paperdesk.core import abstract_text
from paperdesk.core.idlist import IDS, id_array
from paperdesk.core.timeutil import date_words


def load_documents(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, dict]:
    """Documents of the papers that exist among `ids` (missing ids are simply absent). Callers
    pass a batch (1000-2000 ids: a drain's or a build's step); each table is read once for it."""
    docs: dict[str, dict] = {}
    given = (id_array(ids),)
    for row in conn.execute(
            f"SELECT id, title, abstract, authors, organization, published, upvotes, arxiv_id, "
            f"categories FROM papers WHERE id IN {IDS}", given):
        pid, title, abstract, authors, org, published, upvotes, arxiv_id, categories = row
        # Triage decisions (starred, status, updated) are not here: a search reads them from
        # SQLite (decisions.py), so a star or an archive re-indexes nothing.
        flags: list[str] = []
        docs[pid] = {
            "id": pid, "title": title or "", "abstract": abstract_text.decode(abstract),
            "author": " ; ".join(json.loads(authors or "[]")), "org": org or "",
            "published": int(published.replace("-", "")) if published else None,
            "upvotes": upvotes, "arxiv": arxiv_id or "", "flags": flags,
            "categories": categories or "",
            "tags": [], "note": [], "source": [], "fulltext": "",
        }
    if not docs:
        return docs
    # Each statement reads the database as it is then: a paper one of them sees that the first did
    # not (put back by an undo meanwhile) is left to its own queue entry.
    for pid, tag in conn.execute(
            f"SELECT paper_id, tag FROM tags WHERE paper_id IN {IDS} ORDER BY tag", given):
        if pid in docs:
            docs[pid]["tags"].append(tag)
    for pid, body in conn.execute(
            f"SELECT paper_id, body FROM notes WHERE paper_id IN {IDS} AND body != ''", given):
        if pid in docs:
            docs[pid]["note"].append(body)
            docs[pid]["flags"].append("note")
    for pid, quote, comment in conn.execute(
            f"SELECT paper_id, quote, comment FROM highlights WHERE paper_id IN {IDS} ORDER BY id", given):
        if pid in docs:
            docs[pid]["note"] += [quote, comment]
            if "highlight" not in docs[pid]["flags"]:
                docs[pid]["flags"].append("highlight")
    # A PDF's text (extracted by core/pdf/fulltext.py); has:pdf for any PDF kept.
    for pid, text in conn.execute(
            f"SELECT d.paper_id, t.text FROM pdfs d LEFT JOIN pdf_texts t ON t.paper_id = d.paper_id "
            f"WHERE d.paper_id IN {IDS}", given):
        if pid in docs:
            docs[pid]["fulltext"] = text or ""
            docs[pid]["flags"].append("pdf")
    for pid, kind, name, date in conn.execute(
            f"SELECT v.paper_id, s.kind, s.name, s.date FROM provenance v JOIN sources s "
            f"ON s.id = v.source_id WHERE v.paper_id IN {IDS} ORDER BY s.id", given):
        if pid in docs:  # the sidebar's name for a digest ("Nov 5, 2025") is searchable too
            docs[pid]["source"].append(f"{kind} {name} {date_words(date)}".strip())
    for doc in docs.values():
        if doc["tags"]:
            doc["flags"].append("tag")
        doc["sig"] = signature(doc)
    return docs


def signature(doc: dict) -> str:
    """A fingerprint of everything indexed, so `index check` can tell a stale document."""
    payload = json.dumps({k: v for k, v in doc.items() if k != "sig"}, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=8).hexdigest()


def all_paper_ids(conn: sqlite3.Connection, batch: int = 2000,
                  rowids: tuple[int, int] | None = None) -> Iterator[list[str]]:
    """Every paper id (with `rowids`, those with a rowid in that closed range), in batches read
    by rowid one after another: never all at once (a million ids are ~70 MB of Python strings),
    and each batch's cursor is read fully before the caller writes."""
    after, last = (rowids[0] - 1, rowids[1]) if rowids else (-(2**63), 2**63 - 1)
    while True:
        rows = conn.execute("SELECT rowid, id FROM papers WHERE rowid > ? AND rowid <= ? ORDER BY rowid "
                            "LIMIT ?", (after, last, batch)).fetchall()
        if not rows:
            return
        after = rows[-1][0]
        yield [r[1] for r in rows]


def rowid_ranges(conn: sqlite3.Connection, parts: int) -> list[tuple[int, int]]:
    """`parts` closed rowid ranges holding about as many papers each (for the index workers)."""
    total = paper_count(conn)
    size = -(-total // max(parts, 1))
    ranges: list[tuple[int, int]] = []
    after = -(2**63)
    for _ in range(parts):
        end = conn.execute("SELECT max(rowid) FROM (SELECT rowid FROM papers WHERE rowid > ? ORDER BY rowid "
                           "LIMIT ?)", (after, size)).fetchone()[0]
        if end is None:
            break
        ranges.append((after + 1, end))
        after = end
    return ranges


def paper_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM papers").fetchone()[0]
