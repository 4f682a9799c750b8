"""The reader pane's HTML for one paper: escaped, TeX letters converted, then sanitised by nh3.

Qt-free on purpose, so `paperdesk show ID --html` (issue 7) can print exactly what the desk shows.
"""

from __future__ import annotations

import datetime as dt
import html

import nh3

from paperdesk.core.texchars import tex_to_unicode

ALLOWED_TAGS = {"h2", "p", "div", "span", "b", "i", "em", "strong", "a", "br", "small", "table", "tr",
                "td", "ul", "li", "code", "pre", "blockquote", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "span": {"class"}, "div": {"class"}, "p": {"class"},
                      "td": {"class"}, "table": {"class"}}
URL_SCHEMES = {"http", "https"}


def sanitize(markup: str) -> str:
    """Nothing executable survives: no scripts, handlers, styles, iframes or non-http(s) links."""
    return nh3.clean(markup, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", strip_comments=True)


def short_date(iso: str | None) -> str:
    """"2025-11-05" -> "Nov 5" (year added when it is not this year)."""
    if not iso:
        return ""
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    text = f"{day:%b} {day.day}"
    return text if day.year == dt.date.today().year else f"{text}, {day.year}"


def provenance_text(sources: list[dict]) -> str:
    """"in digests Nov 5 and Nov 20, 2 feeds" from a record's `sources`."""
    digests = [short_date(s["date"]) or s["name"] for s in sources if s["kind"] == "digest"]
    others = [s for s in sources if s["kind"] != "digest"]
    parts = []
    if digests:
        dates = list(dict.fromkeys(digests))
        joined = dates[0] if len(dates) == 1 else ", ".join(dates[:-1]) + " and " + dates[-1]
        parts.append(f"{'digest' if len(dates) == 1 else 'digests'} {joined}")
    if others:
        parts.append(f"{len(others)} {'feed' if len(others) == 1 else 'feeds'}")
    return ("in " + ", ".join(parts)) if parts else ""


def authors_text(record: dict) -> str:
    authors = record.get("authors") or []
    count = record.get("authors_count") or len(authors)
    if authors:
        shown = ", ".join(authors[:6])
        return shown + (f" and {count - 6} more" if count > 6 else "")
    return f"{count} authors" if count else ""


def snippet_text(snippet: str) -> str:
    """Search snippets are HTML-escaped source text: turn their TeX escapes into letters too."""
    unquoted = snippet.replace("\\&quot;", '\\"').replace("\\&#x27;", "\\'").replace("\\&#39;", "\\'")
    return tex_to_unicode(unquoted)


def paper_html(record: dict, snippet: str | None = None) -> str:
    """The reader pane's sanitised HTML; `snippet` is search's HTML-safe match excerpt (<b> marks)."""
    e = html.escape
    title = e(tex_to_unicode(record["title"]))
    url = record.get("url")
    head = f'<a href="{e(url)}">{title}</a>' if url else title
    meta = [m for m in (
        e(authors_text(record)), e(record.get("organization") or ""),
        e(record.get("published") or ""),
        f"▲ {record['upvotes']}" if record.get("upvotes") is not None else "",
        e(f"arXiv:{record['arxiv_id']}") if record.get("arxiv_id") else "",
        "★ starred" if record.get("starred") else "",
        "archived" if record.get("status") == "archived" else "",
    ) if m]
    parts = [f"<h2>{head}</h2>", f'<p class="meta">{" · ".join(meta)}</p>']
    if record.get("tags"):
        tags = " ".join(f'<span class="tag">#{e(t)}</span>' for t in record["tags"])
        parts.append(f'<p class="tags">{tags}</p>')
    if snippet:
        parts.append(f'<p class="snippet"><i>Match:</i> {snippet_text(snippet)}</p>')
    abstract = record.get("abstract") or ""
    paragraphs = [p for p in tex_to_unicode(abstract).split("\n\n") if p.strip()]
    parts += [f'<p class="abstract">{e(p)}</p>' for p in paragraphs] or [
        '<p class="meta"><i>No abstract.</i></p>']
    if record.get("note"):
        note = "<br>".join(e(line) for line in record["note"].splitlines())
        parts.append(f'<hr><p class="note"><b>Note</b><br>{note}</p>')
    prov = provenance_text(record.get("sources") or [])
    if prov:
        parts.append(f'<p class="provenance"><small>{e(prov)}</small></p>')
    return sanitize("\n".join(parts))
