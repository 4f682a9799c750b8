"""Queries made only of filters (is:, has:, upvotes:, date:) are answered by SQLite: indexed
columns make them a few ms at 100k papers, and they are exact even before the queue is drained."""

from __future__ import annotations

from paperdesk.core.search import querylang as ql

_FLAGS = {
    "starred": "p.starred = 1",
    "unstarred": "p.starred = 0",
    "archived": "p.status = 'archived'",
    "inbox": "p.status = 'inbox'",
    "updated": "p.updated_note IS NOT NULL",
    "note": "EXISTS (SELECT 1 FROM notes n WHERE n.paper_id = p.id AND n.body != '')",
    "highlight": "EXISTS (SELECT 1 FROM highlights h WHERE h.paper_id = p.id)",
    "tag": "EXISTS (SELECT 1 FROM tags t WHERE t.paper_id = p.id)",
    "pdf": "EXISTS (SELECT 1 FROM pdfs d WHERE d.paper_id = p.id)",
}


def _date(value: int) -> str:
    return f"{value // 10000:04d}-{value // 100 % 100:02d}-{value % 100:02d}"


def to_sql(node: ql.Node) -> tuple[str, list] | None:
    """A WHERE clause over `papers p`, or None when the query has words (the index answers it)."""
    if isinstance(node, ql.Flag):
        return _FLAGS[node.name], []
    if isinstance(node, ql.Range):
        column = "p.upvotes" if node.field == "upvotes" else "p.published"
        conv = (lambda v: v) if node.field == "upvotes" else _date
        # Written as the date-order index's first expression, so SQLite searches that index (a
        # covering range, no table rows) instead of sorting every paper in the range.
        clauses = ["(p.published IS NULL) = 0" if node.field == "published" else f"{column} IS NOT NULL"]
        params: list = []
        if node.low is not None:
            clauses.append(f"{column} >= ?")
            params.append(conv(node.low))
        if node.high is not None:
            clauses.append(f"{column} <= ?")
            params.append(conv(node.high))
        return "(" + " AND ".join(clauses) + ")", params
    if isinstance(node, ql.Not):
        inner = to_sql(node.child)
        return None if inner is None else (f"NOT {inner[0]}", inner[1])
    if isinstance(node, ql.And | ql.Or):
        parts = [to_sql(c) for c in node.children]
        if any(p is None for p in parts):
            return None
        joiner = " AND " if isinstance(node, ql.And) else " OR "
        return "(" + joiner.join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]  # type: ignore[index]
    return None
