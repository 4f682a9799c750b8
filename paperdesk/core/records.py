"""Plain values that importers produce and the store consumes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IncomingPaper:
    """One paper as one source saw it."""

    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    authors_count: int | None = None
    organization: str | None = None
    published: str | None = None  # YYYY-MM-DD
    upvotes: int | None = None
    arxiv_id: str | None = None
    url: str | None = None
    categories: str | None = None  # arXiv categories, space separated, primary first
    arxiv_version: str | None = None  # "v3": the newest version this source knows


@dataclass
class SourceBatch:
    """Everything one digest file or one feed fetch delivered."""

    kind: str  # "digest", "feed", "hf", "arxiv"
    name: str  # file name or feed name
    origin: str  # absolute path or URL
    date: str | None  # the digest's own date, YYYY-MM-DD
    content_hash: str  # identifies identical content, so a re-import adds nothing
    papers: list[IncomingPaper] = field(default_factory=list)
    layout: str | None = None  # which digest layout was detected


class RejectedInput(Exception):
    """Input that cannot be imported; the message says why in plain words."""
