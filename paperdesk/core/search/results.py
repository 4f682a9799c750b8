"""What a search returns (the contract the GUI and the CLI code against)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class SearchHit:
    id: str
    score: float
    snippet: str = ""  # short HTML-safe text; matched words wrapped in <b>...</b>; everything else escaped


@dataclass
class SearchResult:
    hits: list[SearchHit]  # best first (or by sort: field)
    total: int  # number of matching papers (may be > len(hits))
    problems: list[str]  # human messages about the query ("unbalanced quote", "unknown field foo:")
    suggestion: str | None  # "did you mean" query when nothing matched
    sort: str  # "relevance" | "upvotes" | "date" | "interest"
    # id -> snippet, made on first access (the texts are already read: safe from any thread).
    # A list should look up only the rows it shows: 1000 snippets cost ~30 ms, 30 cost ~1 ms.
    snippets: Mapping[str, str] = field(default_factory=dict)
    # sort:interest: how the order was made ("Ranked by a model of your interest, learnt from …").
    ranking: str | None = None
