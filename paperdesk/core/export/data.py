"""What exporters read from the library: records, highlights, and the values templates see."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Sequence

from paperdesk.core.export.blocks import neutralize
from paperdesk.core.export.frontmatter import Value
from paperdesk.core.export.links import markdown_link, meta_line, paper_url
from paperdesk.core.idlist import IDS, id_array


def highlights(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[dict]]:
    """Highlights per paper: the title's, the abstract's, then the PDF's page by page, each in
    reading order."""
    found: dict[str, list[dict]] = {}
    cur = conn.execute(
        f"SELECT id, paper_id, field, quote, start, \"end\", color, comment, created_at, page, located "
        f"FROM highlights WHERE paper_id IN {IDS} "
        f"ORDER BY paper_id, field != 'title', field = 'pdf', page, start, id", (id_array(ids),))
    names = [d[0] for d in cur.description]
    for row in cur:
        item = dict(zip(names, row, strict=True))
        found.setdefault(item["paper_id"], []).append(item)
    return found


def source_label(source: dict) -> str:
    label = f"{source['kind']}: {source['name']}"
    return f"{label} ({source['date']})" if source.get("date") else label


def tag_name(tag: str) -> str:
    """A tag as Obsidian can hold it (no spaces, nothing that ends a tag): `multi word` -> `multi-word`."""
    return "".join(ch if ch.isalnum() or ch in "_-/" else "-" for ch in str(tag).strip().lstrip("#"))


def value_digest(value: Value) -> str:
    """A front-matter value's fingerprint, kept in the manifest to notice the user's edits."""
    return hashlib.sha1(json.dumps(value, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def escape_html(text: str) -> str:
    """Text from outside (a feed's `&lt;script&gt;`, now plain `<script>`) as Markdown text that no
    reader renders as HTML: `<` and `>` become entities, which Markdown shows as the characters."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def nest_headings(text: str, levels: int) -> str:
    """Markdown with every ATX heading `levels` deeper (at most ######), outside code fences, so a
    note's own `# Heading` sits below the section it is exported into."""
    out, fence = [], ""
    for line in str(text).splitlines(keepends=True):
        marker = re.match(r" {0,3}(`{3,}|~{3,})", line)
        if marker and (not fence or marker.group(1).startswith(fence)):
            fence = "" if fence else marker.group(1)[:3]
        elif not fence:
            heading = re.match(r"( {0,3})(#{1,6})(?=[ \t]|$)", line)
            if heading:
                depth = min(6, len(heading.group(2)) + levels)
                line = heading.group(1) + "#" * depth + line[heading.end():]
        out.append(line)
    return "".join(out)


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
        "tags": list(dict.fromkeys(t for t in map(tag_name, record.get("tags") or []) if t)),
        "starred": bool(record.get("starred")),
        "status": record.get("status"),
        "sources": [source_label(s) for s in record.get("sources") or []],
    }


def _texts(value: object, change: Callable[[str], str]) -> object:
    """`value` with `change` applied to every string in it (lists and dicts looked into)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_texts(v, change) for v in value]
    if isinstance(value, dict):
        return {k: _texts(v, change) for k, v in value.items()}
    return value


# Record fields whose text came from digests and feeds: HTML-escaped (the note and highlight
# comments are the user's own Markdown and stay as written).
OUTSIDE_TEXT = ("title", "abstract", "authors", "organization", "sources")


def paper_context(record: dict, marks: list[dict]) -> dict:
    """The `paper` a template sees: the record (text neutralised so it cannot forge a managed-block
    marker, outside text HTML-escaped), its highlights, and ready-made `meta`, `link_url`, `link`."""
    context = _texts(dict(record), neutralize)
    assert isinstance(context, dict)
    for key in OUTSIDE_TEXT:
        if key in context:
            context[key] = _texts(context[key], escape_html)
    context["title"] = " ".join(context["title"].split())
    context["highlights"] = _texts([
        {"quote": escape_html(h["quote"]), "comment": h["comment"] or "", "color": h["color"],
         "field": h["field"],
         # PDF highlights: the page as people count (from 1); None for the abstract's
         "page": h["page"] + 1 if h.get("page") is not None else None,
         # False when a newer PDF of the paper no longer holds the quote (its page is the old one's)
         "located": bool(h["located"]) if h.get("page") is not None else True}
        for h in marks
    ], neutralize)
    context["meta"] = escape_html(neutralize(meta_line(record)))
    context["link_url"] = paper_url(record)
    context["link"] = neutralize(markdown_link(record))
    return context
