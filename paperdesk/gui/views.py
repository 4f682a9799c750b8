"""What the list shows: a view (Inbox, Starred, a tag, a digest…) plus an optional search query.

Qt-free: the model asks a view for its ids and whether a changed row still belongs to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from paperdesk.core import Library
from paperdesk.core.timeutil import long_date


@dataclass(frozen=True)
class View:
    key: str  # stable name, remembered in settings: "inbox", "tag:ml", "source:3", "saved:name"
    title: str
    status: str | None = None
    starred: bool | None = None
    tag: str | None = None
    source_id: int | None = None
    query: str | None = None  # a saved search's query
    tooltip: str | None = None
    category: str | None = None  # a primary arXiv category ("cs.CL")

    @property
    def filters(self) -> dict:
        return {"status": self.status, "starred": self.starred, "tag": self.tag,
                "source_id": self.source_id, "category": self.category}

    def ids(self, lib: Library, order: str, limit: int | None = None) -> list[str]:
        return lib.paper_ids(order=order, limit=limit, **self.filters)

    def count(self, lib: Library) -> int:
        return lib.count(**self.filters)

    def within(self, lib: Library, ids: Sequence[str]) -> list[str]:
        """`ids` (in their order) that belong to this view."""
        if not any(v is not None for v in self.filters.values()) or not ids:
            return list(ids)
        return lib.paper_ids(within=ids, **self.filters)

    def matches_row(self, row: dict) -> bool | None:
        """Whether a `lib.rows` row belongs here; None when a row cannot tell (source views)."""
        if self.source_id is not None:
            return None
        if self.status is not None and row["status"] != self.status:
            return False
        if self.starred is not None and bool(row["starred"]) != self.starred:
            return False
        if self.category is not None and row.get("primary_category") != self.category:
            return False
        return not (self.tag is not None and self.tag not in (row.get("tag_list") or "").split(" "))


@dataclass(frozen=True)
class ViewEntry:
    """A view as the go-to picker and the palette list it (`Sidebar.entries`)."""

    key: str  # the view's key
    title: str  # as the sidebar shows it
    kind: str  # "view", "tag", "digest", "feed", "category", "saved search"
    detail: str = ""  # count, file name, query


INBOX = View("inbox", "Inbox", status="inbox")
STARRED = View("starred", "Starred", starred=True)
ALL = View("all", "All")
ARCHIVE = View("archive", "Archive", status="archived")
FIXED_VIEWS = (INBOX, STARRED, ALL, ARCHIVE)


def tag_view(tag: str) -> View:
    return View(f"tag:{tag}", f"#{tag}", tag=tag)


def source_view(source: dict, by_name: bool = False, named: bool = False) -> View:
    """Digests are named by their date ("Nov 5, 2025"), the file name goes in the tooltip; a digest
    sharing its date with another is `named` too ("Nov 5, 2025 · hf-trending"); a feed's fetches
    `by_name` ("arXiv cs.CL · Nov 5, 2025")."""
    day = long_date(source.get("date"))
    if by_name:
        title = f"{source['name']} · {day}" if day else source["name"]
    else:
        title = f"{day} · {PurePath(source['name']).stem}" if day and named else day or source["name"]
    return View(f"source:{source['id']}", title, source_id=source["id"],
                tooltip=f"{source['name']} ({source.get('origin') or ''})")


def digest_views(sources: Sequence[dict]) -> list[View]:
    """The digests' views, each named by its date, and by its file's name as well when another
    digest has the same date (seen in a real window: a day's three digests were three "Nov 5, 2026")."""
    dates = Counter(long_date(s.get("date")) for s in sources)
    return [source_view(s, named=dates[long_date(s.get("date"))] > 1) for s in sources]


def category_view(category: str) -> View:
    """The papers whose primary arXiv category is `category` (`cat:` in a search also finds the
    papers cross-listed there)."""
    return View(f"category:{category}", category, category=category,
                tooltip=f"cat:{category} (the primary category; searching cat:{category} also finds "
                        "papers cross-listed there)")


def saved_view(name: str, query: str) -> View:
    return View(f"saved:{name}", name, query=query)
