"""Merging what a source delivered into the library: one record per paper, provenance kept."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

from paperdesk.core import abstract_text
from paperdesk.core.idlist import IDS, id_array
from paperdesk.core.limits import MAX_ABSTRACT_CHARS, clean_batch
from paperdesk.core.normalize import find_arxiv_id, normalize_title, paper_id
from paperdesk.core.ops import OpRecorder
from paperdesk.core.records import IncomingPaper, SourceBatch
from paperdesk.core.timeutil import now_iso

PAPER_COLUMNS = (
    "id", "title", "title_norm", "abstract", "authors", "authors_count", "organization",
    "published", "upvotes", "arxiv_id", "url", "starred", "status", "is_read",
    "added_at", "updated_at", "categories", "primary_category", "arxiv_version",
)


@dataclass
class MergeResult:
    source_id: int | None
    duplicate_source: bool = False
    seen: int = 0  # papers in the batch after in-batch de-duplication
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # existing papers whose metadata improved
    existing: list[str] = field(default_factory=list)  # existing papers, metadata unchanged


def _dedupe_batch(papers: list[IncomingPaper]) -> list[tuple[int, IncomingPaper]]:
    """The same paper twice in one source is one paper (first position wins, metadata merged)."""
    by_key: dict[str, tuple[int, IncomingPaper]] = {}
    for position, paper in enumerate(papers, 1):
        paper.arxiv_id = paper.arxiv_id or find_arxiv_id(paper.url)
        key = paper.arxiv_id or normalize_title(paper.title)
        if not normalize_title(paper.title):
            continue  # a title of punctuation only identifies nothing
        if key in by_key:
            _merge_incoming(by_key[key][1], paper)
        else:
            by_key[key] = (position, paper)
    return list(by_key.values())


def _merge_incoming(into: IncomingPaper, other: IncomingPaper) -> None:
    into.abstract = into.abstract or other.abstract
    into.authors = into.authors or other.authors
    into.authors_count = into.authors_count or other.authors_count
    into.organization = into.organization or other.organization
    into.published = into.published or other.published
    into.upvotes = max((v for v in (into.upvotes, other.upvotes) if v is not None), default=None)
    into.arxiv_id = into.arxiv_id or other.arxiv_id
    into.url = into.url or other.url
    into.categories = into.categories or other.categories
    if version_number(other.arxiv_version) > version_number(into.arxiv_version):
        into.arxiv_version = other.arxiv_version


def merged_fields(row: dict, paper: IncomingPaper) -> dict:
    """The columns of an existing paper that the new sighting improves (never loses a fact)."""
    changes: dict = {}
    # An abstract longer than any real one was a broken parse stored before parses were checked.
    if paper.abstract and (not row["abstract"] or len(row["abstract"]) > MAX_ABSTRACT_CHARS):
        changes["abstract"] = paper.abstract
    authors = json.loads(row["authors"] or "[]")
    if len(paper.authors) > len(authors):
        changes["authors"] = json.dumps(paper.authors, ensure_ascii=False)
    count = max((c for c in (row["authors_count"], paper.authors_count,
                             len(paper.authors) or None) if c), default=None)
    if count != row["authors_count"] and count is not None:
        changes["authors_count"] = count
    for column in ("organization", "published", "arxiv_id", "url"):
        value = getattr(paper, column)
        if row[column] is None and value:
            changes[column] = value
    if paper.upvotes is not None and (row["upvotes"] is None or paper.upvotes > row["upvotes"]):
        changes["upvotes"] = paper.upvotes
    old, new = version_number(row.get("arxiv_version")), version_number(paper.arxiv_version)
    # arXiv re-lists papers: a newer version's categories are the current ones.
    relisted = new > old and paper.categories != row.get("categories")
    if paper.categories and (not row.get("categories") or relisted):
        changes["categories"] = paper.categories
        changes["primary_category"] = paper.categories.split()[0]
    if new > old:
        changes["arxiv_version"] = paper.arxiv_version
        decided = "archived" if row["status"] == "archived" else "starred" if row["starred"] else None
        if decided and old:
            changes["updated_note"] = f"{paper.arxiv_version}, updated after you {decided} v{old}"
    return changes


def version_number(version: str | None) -> int:
    """3 for "v3" (0 when unknown)."""
    digits = (version or "").lstrip("vV")
    return int(digits) if digits.isdigit() and len(digits) < 6 else 0


def _lookup(conn: sqlite3.Connection, column: str, values: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    cur = conn.execute(f"SELECT * FROM papers WHERE {column} IN {IDS}", (id_array(sorted(set(values))),))
    names = [d[0] for d in cur.description]
    for row in cur:
        record = abstract_text.decoded(dict(zip(names, row, strict=True)))
        found.setdefault(record[column], record)
    return found


def merge_batch(conn: sqlite3.Connection, batch: SourceBatch, recorder: OpRecorder,
                *, feed_id: int | None = None, source_id: int | None = None) -> MergeResult:
    """Add one source's papers inside the caller's transaction (to `source_id` when given: a
    source read in parts, such as the arXiv snapshot).

    The batch is cleaned first (`limits.clean_batch`): whatever the parser, no text longer than its
    cap, no control character and no number SQLite cannot hold gets in."""
    clean_batch(batch)
    if source_id is None:
        dup = conn.execute(
            "SELECT id FROM sources WHERE kind = ? AND content_hash = ?", (batch.kind, batch.content_hash)
        ).fetchone()
        if dup:
            return MergeResult(source_id=dup[0], duplicate_source=True)

    entries = _dedupe_batch(batch.papers)
    by_arxiv = _lookup(conn, "arxiv_id", [p.arxiv_id for _, p in entries if p.arxiv_id])
    by_title = _lookup(conn, "title_norm", [normalize_title(p.title) for _, p in entries])
    now = now_iso()
    result = MergeResult(source_id=None, seen=len(entries))
    new_rows: list[tuple] = []
    provenance: list[tuple] = []
    for position, paper in entries:
        norm = normalize_title(paper.title)
        row = (by_arxiv.get(paper.arxiv_id) if paper.arxiv_id else None) or by_title.get(norm)
        if row is None:
            pid = paper_id(paper.title, paper.arxiv_id)
            authors_count = paper.authors_count or (len(paper.authors) or None)
            row = dict(
                id=pid, title=paper.title, title_norm=norm, abstract=paper.abstract,
                authors=json.dumps(paper.authors, ensure_ascii=False),
                authors_count=authors_count, organization=paper.organization,
                published=paper.published, upvotes=paper.upvotes, arxiv_id=paper.arxiv_id,
                url=paper.url, starred=0, status="inbox", is_read=0, added_at=now, updated_at=now,
                categories=paper.categories,
                primary_category=paper.categories.split()[0] if paper.categories else None,
                arxiv_version=paper.arxiv_version,
            )
            new_rows.append(tuple(abstract_text.encode(row[c]) if c == "abstract" else row[c]
                                  for c in PAPER_COLUMNS))
            result.created.append(pid)
            # Later entries of this batch may match the paper just made.
            by_title[norm] = row
            if paper.arxiv_id:
                by_arxiv[paper.arxiv_id] = row
        else:
            changes = merged_fields(row, paper)
            if changes and row["id"] not in result.created:
                recorder.touch("papers", [row["id"]], dict(row))
                changes["updated_at"] = now
                stored = {**changes, "abstract": abstract_text.encode(changes["abstract"])} \
                    if "abstract" in changes else changes
                conn.execute(
                    f"UPDATE papers SET {', '.join(f'{c} = ?' for c in stored)} WHERE id = ?",
                    [*stored.values(), row["id"]],
                )
                row.update(changes)
                result.updated.append(row["id"])
            elif row["id"] not in result.created:
                result.existing.append(row["id"])
        provenance.append((row["id"], position, paper.upvotes, now))

    recorder.touch_many_new("papers", ([pid] for pid in result.created))
    conn.executemany(
        f"INSERT INTO papers ({', '.join(PAPER_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(PAPER_COLUMNS))})",
        new_rows,
    )
    reused = source_id is not None
    if source_id is None:
        cur = conn.execute(
            "INSERT INTO sources (kind, name, origin, date, content_hash, layout, paper_count, feed_id, "
            "imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (batch.kind, batch.name, batch.origin, batch.date, batch.content_hash, batch.layout,
             len(entries), feed_id, now),
        )
        source_id = int(cur.lastrowid or 0)
        recorder.touch("sources", [source_id], fetch=False)
    else:
        recorder.touch("sources", [source_id])
        conn.execute("UPDATE sources SET paper_count = paper_count + ? WHERE id = ?",
                     (len(entries), source_id))
    # A paper listed twice under different titles that resolve to one record keeps one row (and a
    # source read in parts lists a paper once, whichever part saw it first).
    seen_ids: set[str] = _listed_in(conn, source_id, [pid for pid, *_ in provenance]) if reused else set()
    result.source_id = source_id
    prov_rows = []
    for pid, position, upvotes, seen_at in provenance:
        if pid not in seen_ids:
            seen_ids.add(pid)
            prov_rows.append((pid, source_id, position, upvotes, seen_at))
    recorder.touch_many_new("provenance", ([r[0], source_id] for r in prov_rows))
    conn.executemany(
        "INSERT INTO provenance (paper_id, source_id, position, upvotes, seen_at) "
        "VALUES (?, ?, ?, ?, ?)",
        prov_rows,
    )
    enqueue_index(conn, [*result.created, *result.updated, *result.existing])
    return result


def _listed_in(conn: sqlite3.Connection, source_id: int, ids: list[str]) -> set[str]:
    return {r[0] for r in conn.execute(
        f"SELECT paper_id FROM provenance WHERE source_id = ? AND paper_id IN {IDS}",
        (source_id, id_array(ids)))}


def enqueue_index(conn: sqlite3.Connection, paper_ids: Iterable[str]) -> None:
    """Mark papers whose search document must be rebuilt (same transaction as the change).

    REPLACE gives a queued paper a new, higher `seq`: a drain that read the old one leaves it."""
    conn.executemany("INSERT OR REPLACE INTO index_queue (paper_id) VALUES (?)",
                     ((pid,) for pid in paper_ids))

