"""Fetched bytes to a SourceBatch: RSS/Atom (feedparser), arXiv listings and API, HF daily papers JSON.

Pure functions of (bytes, headers): no network, no database, safe in any thread.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from paperdesk.core.feeds.sanitize import html_to_text, plain_to_text, to_text
from paperdesk.core.limits import MAX_NUMBER_DIGITS, MAX_UPVOTES, number_in_range
from paperdesk.core.normalize import find_arxiv_id
from paperdesk.core.records import IncomingPaper, RejectedInput, SourceBatch

if TYPE_CHECKING:  # imported when a feed is parsed: the desk starts without it
    import feedparser

_ARXIV_RSS_PREFIX = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.I)
_FALLBACK_TITLE_CHARS = 120


@dataclass
class ParsedFeed:
    batch: SourceBatch
    title: str  # the feed's own title, plain text ("" if none)
    items: int  # entries in the document (before dropping untitled, empty ones)


def content_hash(kind: str, origin: str, papers: list[IncomingPaper]) -> str:
    """Same feed, same items → same hash, so an unchanged feed adds nothing on re-import."""
    payload = json.dumps([kind, origin, [asdict(p) for p in papers]], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def looks_like_json(body: bytes, content_type: str | None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"[", b"{")


def parse_document(body: bytes, *, url: str, name: str, content_type: str | None = None,
                   today: dt.date | None = None) -> ParsedFeed:
    """Parse one fetched document or raise RejectedInput with a plain-words reason."""
    if looks_like_json(body, content_type):
        return parse_hf_json(body, url=url, name=name)
    return parse_feed(body, url=url, name=name, content_type=content_type, today=today)


# -- RSS / Atom / arXiv ------------------------------------------------------------------------
def parse_feed(body: bytes, *, url: str, name: str, content_type: str | None = None,
               today: dt.date | None = None) -> ParsedFeed:
    import feedparser

    headers = {"content-type": content_type or "application/xml", "content-location": url}
    # A stream, never bytes or str: feedparser would treat a body that looks like a path or URL
    # as one. Its own sanitiser is off because nh3 does that job (sanitize.py).
    doc = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False,
                           resolve_relative_uris=False)
    if not doc.entries:
        problem = _not_a_feed(doc, body)
        if problem:
            raise RejectedInput(problem)
    kind = "arxiv" if _is_arxiv(url, doc) else "feed"
    papers = [p for p in (_entry_paper(e, kind) for e in doc.entries) if p is not None]
    feed_title = to_text(doc.feed.get("title"), doc.feed.get("title_detail", {}).get("type"),
                         single_line=True)
    date = _date(_parsed(doc.feed, "updated_parsed", "published_parsed"))
    batch = SourceBatch(
        kind=kind, name=name or feed_title or url, origin=url,
        date=date or (today or dt.datetime.now(dt.UTC).date()).isoformat(),
        content_hash=content_hash(kind, url, papers), papers=papers,
    )
    return ParsedFeed(batch=batch, title=feed_title, items=len(doc.entries))


def _not_a_feed(doc: feedparser.FeedParserDict, body: bytes) -> str | None:
    """Why a document without entries is not a (possibly empty) feed, or None if it is one."""
    import feedparser

    exc = doc.get("bozo_exception")
    xml_broken = exc is not None and not isinstance(
        exc, feedparser.CharacterEncodingOverride | feedparser.NonXMLContentType)
    if doc.get("version") and not xml_broken:
        return None  # a well-formed feed that simply has no items right now
    if re.search(rb"<html|<!doctype html", body[:2048], re.I):
        return "the address returned a web page, not a feed"
    if not body.strip():
        return "the server sent an empty document"
    if xml_broken:
        line = getattr(exc, "getLineNumber", lambda: None)()
        where = f" at line {line}" if line else ""
        message = getattr(exc, "getMessage", lambda: str(exc))()
        return f"not a valid feed: broken XML{where} ({message})"
    return "not a feed: no RSS or Atom content found"


def _is_arxiv(url: str, doc: feedparser.FeedParserDict) -> bool:
    hosts = [urlsplit(u).hostname or "" for u in (url, doc.feed.get("link", ""), doc.feed.get("id", ""))]
    if any(h == "arxiv.org" or h.endswith(".arxiv.org") for h in hosts):
        return True
    ids = [e.get("id") or e.get("link") or "" for e in doc.entries]
    return bool(ids) and all("arxiv.org/abs/" in i for i in ids)


def _entry_paper(entry: feedparser.FeedParserDict, kind: str) -> IncomingPaper | None:
    title = to_text(entry.get("title"), entry.get("title_detail", {}).get("type"), single_line=True)
    abstract = _entry_abstract(entry)
    if kind == "arxiv":
        abstract = _ARXIV_RSS_PREFIX.sub("", abstract)
    if not title:
        if not abstract:
            return None
        # RSS 2.0 allows items with only a description: its opening words stand in as a title.
        title = " ".join(abstract.split())
        if len(title) > _FALLBACK_TITLE_CHARS:
            title = title[: _FALLBACK_TITLE_CHARS - 1].rstrip() + "…"
    link = entry.get("link")
    arxiv_id = None
    if kind == "arxiv":
        arxiv_id = find_arxiv_id(entry.get("id")) or find_arxiv_id(link)
    return IncomingPaper(
        title=title, abstract=abstract, authors=_authors(entry, kind),
        published=_date(_parsed(entry, "published_parsed", "updated_parsed")),
        arxiv_id=arxiv_id, url=link if _is_web_url(link) else None,
    )


def _entry_abstract(entry: feedparser.FeedParserDict) -> str:
    detail = entry.get("summary_detail") or {}
    text = to_text(entry.get("summary"), detail.get("type"))
    if not text:
        for content in entry.get("content") or []:
            text = to_text(content.get("value"), content.get("type"))
            if text:
                break
    return text


def _authors(entry: feedparser.FeedParserDict, kind: str) -> list[str]:
    names = [html_to_text(a.get("name"), single_line=True) for a in entry.get("authors") or []]
    names = [n for n in names if n]
    if kind == "arxiv" and len(names) == 1 and "," in names[0]:
        # arXiv listing feeds put every author in one dc:creator, comma separated.
        names = [n.strip() for n in re.split(r",|\band\b", names[0]) if n.strip()]
    return list(dict.fromkeys(names))


def _parsed(d: feedparser.FeedParserDict, *keys: str) -> time.struct_time | None:
    """The first of `keys` that feedparser parsed. Read as a plain dict: its own lookup maps a
    missing updated_parsed to published_parsed with a DeprecationWarning (an error under -W error,
    for an entry whose date it could not parse)."""
    return next((v for v in (dict.get(d, k) for k in keys) if v), None)


def _date(parsed: time.struct_time | None) -> str | None:
    if not parsed:
        return None
    try:
        return dt.date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday).isoformat()
    except (ValueError, OverflowError, TypeError):  # a year past C's int: OverflowError
        return None


def _is_web_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in ("http", "https")


# -- Hugging Face daily papers -------------------------------------------------------------------
def parse_hf_json(body: bytes, *, url: str, name: str) -> ParsedFeed:
    """The /api/daily_papers answer: a list of {paper: {...}, title, summary, ...}."""
    try:
        data = json.loads(body.decode("utf-8-sig"), parse_int=_json_int)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RejectedInput(f"not valid JSON ({exc})") from None
    if isinstance(data, dict):
        data = data.get("papers", data.get("data"))
    if not isinstance(data, list):
        raise RejectedInput("JSON but not Hugging Face daily papers: expected a list of papers")
    papers: list[IncomingPaper] = []
    days: list[str] = []
    for item in data:
        if not isinstance(item, dict):
            continue
        paper = item.get("paper") if isinstance(item.get("paper"), dict) else item
        paper_paper = _hf_paper(paper, item)
        if paper_paper is not None:
            papers.append(paper_paper)
        day = _iso_day(paper.get("submittedOnDailyAt") or item.get("publishedAt"))
        if day:
            days.append(day)
    if data and not papers:
        raise RejectedInput("JSON but not Hugging Face daily papers: no entry has a paper title")
    batch = SourceBatch(
        kind="hf", name=name or "Hugging Face daily papers", origin=url,
        date=max(days) if days else None, content_hash=content_hash("hf", url, papers), papers=papers,
    )
    return ParsedFeed(batch=batch, title="Hugging Face daily papers", items=len(data))


def _hf_paper(paper: dict, item: dict) -> IncomingPaper | None:
    title = plain_to_text(_str(paper.get("title")) or _str(item.get("title")), single_line=True)
    if not title:
        return None
    pid = _str(paper.get("id"))
    arxiv_id = find_arxiv_id(pid)
    authors = [plain_to_text(_str(a.get("name")), single_line=True)
               for a in paper.get("authors") or [] if isinstance(a, dict)]
    authors = [a for a in authors if a]
    org = paper.get("organization") or item.get("organization")
    organization = None
    if isinstance(org, dict):
        organization = plain_to_text(_str(org.get("fullname")) or _str(org.get("name")),
                                     single_line=True) or None
    return IncomingPaper(
        title=title,
        abstract=plain_to_text(_str(paper.get("summary")) or _str(item.get("summary"))),
        authors=authors, authors_count=len(authors) or None, organization=organization,
        published=_iso_day(paper.get("publishedAt")),
        # Out of range (10**30, negative) is dropped: the paper stays, the number was never real.
        upvotes=number_in_range(paper.get("upvotes"), 0, MAX_UPVOTES),
        arxiv_id=arxiv_id,
        url=f"https://huggingface.co/papers/{pid}" if pid else None,
    )


def _json_int(digits: str) -> int | None:
    """JSON integers of absurd length are None: int() refuses 4,300+ digits, SQLite 20+."""
    return int(digits) if len(digits.lstrip("-")) <= MAX_NUMBER_DIGITS else None


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _iso_day(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None
