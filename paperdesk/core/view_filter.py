"""The papers a desk view lists (the Inbox, Starred, a tag, a digest, an arXiv category), defined once
for listing and counting a view and for searching within it."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class ViewFilter:
    """Conditions a paper meets to be in a view; none: every paper."""

    status: str | None = None
    starred: bool | None = None
    tag: str | None = None
    source_id: int | None = None
    category: str | None = None  # a primary arXiv category ("cs.CL")

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

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

    def decision(self) -> str | None:
        """The triage decision (`is:` name, search/decisions.py) this filter is, when it is one alone:
        the search index keeps those as masks patched as they change."""
        if (self.tag, self.source_id, self.category) != (None, None, None):
            return None
        if self.starred is None and self.status in ("inbox", "archived"):
            return self.status
        if self.status is None and self.starred is not None:
            return "starred" if self.starred else "unstarred"
        return None
