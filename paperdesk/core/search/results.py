"""What a search returns (the contract the GUI and the CLI code against)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SearchHit:
    id: str
    score: float
    snippet: str  # short HTML-safe text; matched words wrapped in <b>...</b>; everything else escaped


@dataclass
class SearchResult:
    hits: list[SearchHit]  # best first (or by sort: field)
    total: int  # number of matching papers (may be > len(hits))
    problems: list[str]  # human messages about the query ("unbalanced quote", "unknown field foo:")
    suggestion: str | None  # "did you mean" query when nothing matched
    sort: str  # "relevance" | "upvotes" | "date"
