"""The papers a desk view lists (the Inbox, Starred, a tag, a digest, an arXiv category), defined once
for listing and counting a view and for searching within it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace

# A tag or digest holding more papers than this is read by walking the papers (each checked for it:
# a page of a list stops early, a count or a whole list reads them all once) rather than by looking
# its papers up one by one from its own index (then sorted). At 1M papers a 5,000-paper digest's
# look-up is ~10 ms where the walk took 1.3-2 s; a 1M-paper source's walk 0.3-0.7 s where the
# look-up took 3-5 s (a snapshot file's source holds every paper it brought).
WALK_FROM = 20_000

# The statuses that are triage decisions (every status the library stores).
DECISION_STATUSES = ("inbox", "archived")


@dataclass(frozen=True)
class ViewFilter:
    """Conditions a paper meets to be in a view; none: every paper."""

    status: str | None = None
    starred: bool | None = None
    tag: str | None = None
    source_id: int | None = None
    category: str | None = None  # a primary arXiv category ("cs.CL")

    def __bool__(self) -> bool:
        return bool(self.sql()[0])

    def sql_for(self, conn: sqlite3.Connection) -> tuple[str, list]:
        """`sql()`, walking the papers when its tag or digest holds many (see WALK_FROM)."""
        return self.sql(walk=self.holds_many(conn))

    def holds_many(self, conn: sqlite3.Connection) -> bool:
        """Whether the filter's tag or digest holds more than WALK_FROM papers (counted up to
        there, from its own index)."""
        counts = []
        if self.tag:
            counts.append(("SELECT 1 FROM tags WHERE tag = ?", self.tag))
        if self.source_id is not None:
            counts.append(("SELECT 1 FROM provenance WHERE source_id = ?", self.source_id))
        return any(conn.execute(f"SELECT count(*) FROM ({sql} LIMIT {WALK_FROM + 1})",
                                (value,)).fetchone()[0] > WALK_FROM for sql, value in counts)

    def sql(self, walk: bool = False) -> tuple[str, list]:
        """The conditions on `papers p` joined by AND ("" when none), and their parameters.

        A tag's or digest's papers are looked up from its own index (at 1M papers a 5,000-paper
        digest is read in ~10 ms, where checking every paper for it took 1.3-2 s); with `walk`, each
        paper is checked as the caller walks a list order, for a page of a tag or digest holding
        much of the library (the walk ends with the page, a look-up would sort them all)."""
        clauses, params = [], []
        if self.status:
            clauses.append("p.status = ?")
            params.append(self.status)
        if self.starred is not None:  # a literal: the planner uses a partial index only for one
            clauses.append(f"p.starred = {1 if self.starred else 0}")
        if self.tag:
            clauses.append("EXISTS (SELECT 1 FROM tags t WHERE t.paper_id = p.id AND t.tag = ?)" if walk
                           else "p.id IN (SELECT t.paper_id FROM tags t WHERE t.tag = ?)")
            params.append(self.tag)
        if self.source_id is not None:
            clauses.append("EXISTS (SELECT 1 FROM provenance v WHERE v.paper_id = p.id AND v.source_id = ?)"
                           if walk else "p.id IN (SELECT v.paper_id FROM provenance v WHERE v.source_id = ?)")
            params.append(self.source_id)
        if self.category:  # the primary arXiv category (the papers_primary_category index)
            clauses.append("p.primary_category = ?")
            params.append(self.category)
        return " AND ".join(clauses), params

    def without_source(self) -> ViewFilter:
        return replace(self, source_id=None)

    def decisions(self) -> list[str]:
        """Its triage decisions (`is:` names, search/decisions.py): the Inbox or the Archive, starred
        or not."""
        names = [self.status] if self.status in DECISION_STATUSES else []
        if self.starred is not None:
            names.append("starred" if self.starred else "unstarred")
        return names

    def membership(self) -> ViewFilter:
        """Its conditions other than `decisions()`: a tag, a digest, a category."""
        return replace(self, starred=None, status=None if self.status in DECISION_STATUSES else self.status)
