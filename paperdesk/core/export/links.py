"""Links to a paper: its URL, a Markdown link (the desk's `y` key), a one-line description."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

_MD_TEXT_SPECIAL = re.compile(r"([\\\[\]`*_<>])")


def paper_url(record: dict) -> str | None:
    """The paper's own http(s) URL, else its arXiv page; other schemes are never linked."""
    url = (record.get("url") or "").strip()
    if url and urlsplit(url).scheme.lower() in ("http", "https") and not re.search(r"\s", url):
        return url
    if record.get("arxiv_id"):
        return f"https://arxiv.org/abs/{record['arxiv_id']}"
    return None


def search_url(title: str) -> str:
    return "https://arxiv.org/search/?searchtype=title&query=" + quote(" ".join(title.split()), safe="")


def web_link(record: dict) -> str:
    """Where the desk sends a person for this paper (`o` opens it, `y` copies it): its own page,
    else, for a paper known only by its title, an arXiv title search, so the link still leads
    somewhere."""
    return paper_url(record) or search_url(_title(record))


def _title(record: dict) -> str:
    return " ".join((record.get("title") or record.get("id") or "untitled").split())


def markdown_link(record: dict) -> str:
    """`[Title](url)` for `web_link`, safe to paste into any Markdown file."""
    text = _MD_TEXT_SPECIAL.sub(r"\\\1", _title(record))
    return f"[{text}]({_md_url(web_link(record))})"


def _md_url(url: str) -> str:
    # parentheses and spaces would end a Markdown link destination early
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C") \
        .replace(">", "%3E")


def meta_line(record: dict) -> str:
    """"LongCat · 2026-10-30 · 12 upvotes": who, when and how popular, whatever is known."""
    parts = []
    authors = record.get("authors") or []
    if record.get("organization"):
        parts.append(record["organization"])
    if authors:
        parts.append(", ".join(authors[:3]) + (" et al." if len(authors) > 3 else ""))
    elif record.get("authors_count"):
        count = record["authors_count"]
        parts.append(f"{count} author" + ("" if count == 1 else "s"))
    if record.get("published"):
        parts.append(record["published"])
    if record.get("upvotes") is not None:
        parts.append(f"{record['upvotes']} upvote" + ("" if record["upvotes"] == 1 else "s"))
    if record.get("arxiv_id"):
        parts.append(f"arXiv:{record['arxiv_id']}")
    return " · ".join(parts)
