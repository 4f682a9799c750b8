"""What exporters read from the library: records, highlights, and the values templates see."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from paperdesk.core.export.blocks import neutralize
from paperdesk.core.export.frontmatter import Value
from paperdesk.core.export.links import markdown_link, meta_line, paper_url

# The front-matter keys PaperDesk owns in a paper's file, in the order they are written.
PAPER_KEYS = ("id", "title", "arxiv_id", "url", "authors", "organization", "published", "upvotes",
              "tags", "starred", "status", "sources")


def highlights(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[dict]]:
    """Highlights per paper, title ones first, then in reading order."""
    found: dict[str, list[dict]] = {}
    ids = list(ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        cur = conn.execute(
            f"SELECT id, paper_id, field, quote, start, \"end\", color, comment, created_at "
            f"FROM highlights WHERE paper_id IN ({','.join('?' * len(chunk))}) "
            f"ORDER BY paper_id, field != 'title', start, id", chunk)
        names = [d[0] for d in cur.description]
        for row in cur:
            item = dict(zip(names, row, strict=True))
            found.setdefault(item["paper_id"], []).append(item)
    return found


def source_label(source: dict) -> str:
    label = f"{source['kind']}: {source['name']}"
    return f"{label} ({source['date']})" if source.get("date") else label


def front_values(record: dict) -> dict[str, Value]:
    return {
        "id": record["id"],
        "title": " ".join(record["title"].split()),
        "arxiv_id": record.get("arxiv_id"),
        "url": paper_url(record),
        "authors": list(record.get("authors") or []),
        "organization": record.get("organization"),
        "published": record.get("published"),
        "upvotes": record.get("upvotes"),
        "tags": list(record.get("tags") or []),
        "starred": bool(record.get("starred")),
        "status": record.get("status"),
        "sources": [source_label(s) for s in record.get("sources") or []],
    }


def _clean(value: object) -> object:
    if isinstance(value, str):
        return neutralize(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def paper_context(record: dict, marks: list[dict]) -> dict:
    """The `paper` a template sees: the record (text neutralised so it cannot forge a managed-block
    marker), its highlights, and ready-made `meta`, `link_url` and `link`."""
    context = _clean(dict(record))
    assert isinstance(context, dict)
    context["title"] = " ".join(context["title"].split())
    context["highlights"] = _clean([
        {"quote": h["quote"], "comment": h["comment"] or "", "color": h["color"], "field": h["field"]}
        for h in marks
    ])
    context["meta"] = neutralize(meta_line(record))
    context["link_url"] = paper_url(record)
    context["link"] = neutralize(markdown_link(record))
    return context
