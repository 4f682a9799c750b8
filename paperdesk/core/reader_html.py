"""The reader pane's HTML for one paper: title, metadata, abstract with highlights, the note as Markdown.

Qt-free, so `paperdesk show ID --html` prints exactly what the desk shows. Text is escaped and TeX
accents turned into letters; the whole page then passes through `markup.sanitize`, the one allow-list.
Highlights are stored against the RAW abstract (quote + offset); `display_map` relates the shown
(TeX-converted) text to raw offsets so the desk can place marks and turn a selection into offsets.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import html
import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from paperdesk.core.annotations import Highlight, locate
from paperdesk.core.limits import MAX_ABSTRACT_CHARS, capped
from paperdesk.core.markup import render_markdown, sanitize
from paperdesk.core.texchars import tex_to_unicode
from paperdesk.core.words import count_of

if TYPE_CHECKING:
    from paperdesk.core.library import Library

HIGHLIGHT_CSS = {"yellow": "#fde68a", "green": "#bbf7d0", "blue": "#bfdbfe", "pink": "#fbcfe8"}
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# The store caps what it keeps (core/limits.py); these hold for rows written before it did, so the
# pane never lays out an unbounded string (Qt's layout grew quadratically: a 5 MB title took 300+ s;
# one unbroken 50,000-char word 2.2 s, 10,000 chars 0.09 s, measured offscreen on the loaded VM).
SHOWN_TITLE_CHARS = 1_000
SHOWN_ABSTRACT_CHARS = MAX_ABSTRACT_CHARS
SHOWN_FIELD_CHARS = 500  # an author, the organisation, a tag, a highlight's quote or comment
SHOWN_URL_CHARS = 2_048


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
    """"in digests Nov 5 and Nov 20, 2 feeds, the arXiv snapshot" from a record's `sources`."""
    digests = [short_date(s["date"]) or s["name"] for s in sources if s["kind"] == "digest"]
    others = [s for s in sources if s["kind"] not in ("digest", "arxiv")]
    snapshots = len({s["name"] for s in sources if s["kind"] == "arxiv"})
    parts = []
    if digests:
        dates = list(dict.fromkeys(digests))
        joined = dates[0] if len(dates) == 1 else ", ".join(dates[:-1]) + " and " + dates[-1]
        parts.append(f"{'digest' if len(dates) == 1 else 'digests'} {joined}")
    if others:
        parts.append(f"{len(others)} {'feed' if len(others) == 1 else 'feeds'}")
    if snapshots:
        parts.append("the arXiv snapshot" if snapshots == 1 else f"{snapshots} arXiv snapshots")
    return ("in " + ", ".join(parts)) if parts else ""


def authors_text(record: dict) -> str:
    authors = record.get("authors") or []
    count = record.get("authors_count") or len(authors)
    if authors:
        shown = ", ".join(capped(str(a), SHOWN_FIELD_CHARS) for a in authors[:6])
        return shown + (f" and {count - 6} more" if count > 6 else "")
    return count_of(count, "author") if count else ""


def snippet_text(snippet: str) -> str:
    """Search snippets are HTML-escaped source text: turn their TeX escapes into letters too."""
    unquoted = snippet.replace("\\&quot;", '\\"').replace("\\&#x27;", "\\'").replace("\\&#39;", "\\'")
    return tex_to_unicode(unquoted)


# -- shown text <-> raw offsets -----------------------------------------------------------------
def display_map(raw: str) -> tuple[str, list[int]]:
    """(shown text, starts): starts[i] is the raw offset where shown character i comes from;
    starts[len(shown)] == len(raw). Shown text is raw with TeX accents converted."""
    shown = tex_to_unicode(raw)
    if shown == raw:
        return raw, list(range(len(raw) + 1))
    starts = [0] * (len(shown) + 1)
    for tag, i1, _i2, j1, j2 in difflib.SequenceMatcher(None, raw, shown, autojunk=False).get_opcodes():
        for k in range(j1, j2):
            starts[k] = i1 + (k - j1) if tag == "equal" else i1
    starts[len(shown)] = len(raw)
    return shown, starts


def raw_span(starts: Sequence[int], shown_start: int, shown_end: int) -> tuple[int, int]:
    return starts[shown_start], starts[shown_end]


def shown_span(starts: Sequence[int], raw_start: int, raw_end: int) -> tuple[int, int]:
    return bisect.bisect_left(starts, raw_start), bisect.bisect_left(starts, raw_end)


def paragraphs(shown: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank paragraph of the shown abstract (blank lines separate them)."""
    spans, pos = [], 0
    for brk in [*_PARAGRAPH_BREAK.finditer(shown), None]:
        end = brk.start() if brk else len(shown)
        if shown[pos:end].strip():
            spans.append((pos, end))
        pos = brk.end() if brk else end
    return spans


Placed = tuple[int, int, Highlight]  # shown start, shown end, highlight


def place(raw: str, starts: Sequence[int], marks: Sequence[Highlight]) -> list[Placed]:
    """Where each highlight is in the shown text now (re-imports may have moved or re-wrapped it)."""
    placed = []
    for h in marks:
        span = locate(raw, h.quote, h.start)
        if span is not None:
            a, b = shown_span(starts, *span)
            if b > a:
                placed.append((a, b, h))
    return placed


def marked_html(shown: str, placed: Sequence[Placed], lo: int, hi: int) -> str:
    """shown[lo:hi] escaped, with highlighted runs in <span class="hl hl-COLOUR">; newest on top."""
    cuts = sorted({lo, hi, *(min(hi, max(lo, x)) for a, b, _h in placed for x in (a, b))})
    out = []
    for a, b in itertools.pairwise(cuts):
        piece = html.escape(" ".join(shown[a:b].split("\n")))
        cover = [h for s, e, h in placed if s <= a and b <= e]
        if cover:
            top = max(cover, key=lambda h: h.id)
            title = f' title="{html.escape(top.comment)}"' if top.comment else ""
            out.append(f'<span class="hl hl-{top.color}"{title}>{piece}</span>')
        else:
            out.append(piece)
    return "".join(out)


# -- the page -------------------------------------------------------------------------------------
def paper_html(lib: Library | None, record: dict, snippet: str | None = None,
               marks: Sequence[Highlight] | None = None) -> str:
    """The reader pane's sanitised HTML. With `lib`, highlights are read and [[links]] resolved;
    `snippet` is search's HTML-safe match excerpt (<b> marks)."""
    e = html.escape
    if marks is None:
        marks = lib.highlights.of(record["id"]) if lib is not None else []
    by_field = {f: [h for h in marks if h.field == f] for f in ("title", "abstract")}

    title_raw = capped(record.get("title") or "", SHOWN_TITLE_CHARS)
    title_shown, title_starts = display_map(title_raw)
    title = marked_html(title_shown, place(title_raw, title_starts, by_field["title"]), 0, len(title_shown))
    url = record.get("url")
    head = f'<a href="{e(url)}">{title}</a>' if url and len(url) <= SHOWN_URL_CHARS else title
    meta = [m for m in (
        e(authors_text(record)), e(capped(record.get("organization") or "", SHOWN_FIELD_CHARS)),
        e(capped(record.get("published") or "", 20)),
        f"▲ {record['upvotes']}" if record.get("upvotes") is not None else "",
        e(capped(f"arXiv:{record['arxiv_id']}{record.get('arxiv_version') or ''}", 80))
        if record.get("arxiv_id") else "",
        e(capped(" ".join(record.get("categories") or []), SHOWN_FIELD_CHARS)),
        "★ starred" if record.get("starred") else "",
        "archived" if record.get("status") == "archived" else "",
        # "v3, updated after you archived v1": arXiv has a newer version than the one decided on
        f"<b>↻ {e(capped(record['updated_note'], SHOWN_FIELD_CHARS))}</b>"
        if record.get("updated_note") else "",
    ) if m]
    parts = [f"<h2>{head}</h2>", f'<p class="meta">{" · ".join(meta)}</p>']
    if record.get("tags"):
        tags = " ".join(f'<span class="tag">#{e(capped(t, SHOWN_FIELD_CHARS))}</span>'
                        for t in record["tags"])
        parts.append(f'<p class="tags">{tags}</p>')
    if snippet:
        parts.append(f'<p class="snippet"><i>Match:</i> {snippet_text(snippet)}</p>')

    # Cut, not ellipsised: highlights keep their offsets into the raw abstract.
    abstract_raw = (record.get("abstract") or "")[:SHOWN_ABSTRACT_CHARS]
    shown, starts = display_map(abstract_raw)
    placed = place(abstract_raw, starts, by_field["abstract"])
    spans = paragraphs(shown)
    parts += [f'<p class="abstract">{marked_html(shown, placed, a, b)}</p>' for a, b in spans] or [
        '<p class="meta"><i>No abstract.</i></p>']

    if marks:
        items = []
        for h in marks:
            comment = f' — <i>{e(capped(h.comment, SHOWN_FIELD_CHARS))}</i>' if h.comment else ""
            where = " (title)" if h.field == "title" else ""
            quote = e(tex_to_unicode(capped(h.quote, SHOWN_FIELD_CHARS)))
            items.append(f'<li><span class="hl hl-{h.color}">{quote}</span>{where}'
                         f'{comment} <a href="paperdesk://highlight/{h.id}">comment…</a></li>')
        parts.append(f'<p class="section"><b>Highlights</b></p><ul class="highlights">{"".join(items)}</ul>')
    if record.get("note"):
        resolve = lib.notes.resolve_link if lib is not None else None
        parts.append(f'<hr><p class="section"><b>Note</b></p><div class="note">'
                     f'{render_markdown(record["note"], resolve)}</div>')
    prov = provenance_text(record.get("sources") or [])
    if prov:
        parts.append(f'<p class="provenance"><small>{e(prov)}</small></p>')
    return sanitize("\n".join(parts))
