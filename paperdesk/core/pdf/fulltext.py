"""The text of cached PDFs for the search index: extracted in the background, resumable.

Each `pdfs` row starts `pending`; `extract_pending` reads the file (no transaction open meanwhile),
then in one transaction stores the text with its page starts in `pdf_texts`, sets `text_state`
(done | none | encrypted | error) and queues the paper for the search index. A crash leaves the
row pending and the next run takes it again. A newer file of the same paper re-locates the paper's
PDF highlights: where the quoted text is still found they move to it, the rest are kept and marked
as not located.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from paperdesk.core import ops
from paperdesk.core.annotations import locate
from paperdesk.core.library import Library, Progress, reporting
from paperdesk.core.pdf import bidi
from paperdesk.core.pdf.document import PdfBroken, PdfDocument, PdfEncrypted, PdfError
from paperdesk.core.store import enqueue_index

PAGE_BREAK = "\n\f\n"  # between two pages' texts: a snippet never runs words of two pages together
# Control characters some PDFs' text layers carry (habibi.pdf has a U+0003) would reach snippets;
# line ends and tabs stay.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
STATE_WORDS = {
    "done": "text indexed",
    "pending": "text not extracted yet",
    "none": "no text to search (the PDF has no text layer; a scan without OCR?)",
    "encrypted": "encrypted: needs a password (its text is not searchable)",
    "error": "its text could not be read",
}


@dataclass
class ExtractReport:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # paper id -> text_state word
    cancelled: bool = False


@dataclass(frozen=True)
class PageText:
    text: str
    page_starts: tuple[int, ...]  # offset in `text` where each page begins


def extract(doc: PdfDocument) -> PageText:
    texts = [_CONTROLS.sub("", bidi.logical(doc.page_text(i).replace("\r\n", "\n").replace("\r", "\n")))
             for i in range(doc.page_count)]
    starts, offset = [], 0  # of the cleaned texts, so a snippet names the right page
    for text in texts:
        starts.append(offset)
        offset += len(text) + len(PAGE_BREAK)
    return PageText(PAGE_BREAK.join(texts), tuple(starts))


def page_text(lib: Library, paper_id: str) -> PageText | None:
    row = lib.conn.execute("SELECT text, page_starts FROM pdf_texts WHERE paper_id = ?",
                           (paper_id,)).fetchone()
    return PageText(row[0], tuple(json.loads(row[1]))) if row else None


def pending(lib: Library) -> list[str]:
    return [r[0] for r in lib.conn.execute(
        "SELECT paper_id FROM pdfs WHERE text_state = 'pending' ORDER BY fetched_at, paper_id")]


def extract_pending(lib: Library, progress: Progress | None = None,
                    cancelled: Callable[[], bool] | None = None, limit: int | None = None) -> ExtractReport:
    """Extract the text of PDFs still pending (the `limit` oldest if given); a desk job."""
    ids = pending(lib)[:limit] if limit is not None else pending(lib)
    report = ExtractReport()
    for pid in reporting(ids, progress, str):
        if cancelled and cancelled():
            report.cancelled = True
            break
        state = extract_one(lib, pid)
        if state == "done":
            report.done.append(pid)
        else:
            report.failed[pid] = state
    return report  # the papers are queued: whoever drains the index (its count is the desk's signal)


def extract_one(lib: Library, paper_id: str) -> str:
    """Extract one paper's PDF text now; returns the new text_state."""
    path = lib.pdf_path(paper_id)
    text: PageText | None = None
    doc = None
    moved: list[tuple] = []
    try:
        if path is None:
            raise PdfBroken("the file is missing")
        doc = PdfDocument.open(path)
        text = extract(doc)
        state = "done" if text.text.strip() else "none"
        moved = _relocate(lib, paper_id, doc) if state == "done" else []
    except PdfEncrypted:
        state = "encrypted"
    except PdfError:
        state = "error"
    finally:
        if doc is not None:
            doc.close()
    with lib.transaction() as conn:  # derived data, not a user operation
        row = None  # no text: none stored
        if state == "done" and text is not None:
            row = {"paper_id": paper_id, "text": text.text, "page_starts": json.dumps(text.page_starts)}
        ops.put_row(conn, "pdf_texts", [paper_id], row)
        conn.execute("UPDATE pdfs SET text_state = ? WHERE paper_id = ?", (state, paper_id))
        conn.executemany("UPDATE highlights SET page = ?, start = ?, end = ?, quads = ?, located = ? "
                         "WHERE id = ?", moved)
        enqueue_index(conn, [paper_id])
    return state


def _relocate(lib: Library, paper_id: str, doc: PdfDocument) -> list[tuple]:
    """New places of the paper's PDF highlights in this file: (page, start, end, quads, located, id)
    for those that moved or were lost."""
    rows = lib.conn.execute(
        "SELECT id, page, start, end, quote, located FROM highlights "
        "WHERE paper_id = ? AND field = 'pdf'",
        (paper_id,)).fetchall()
    moved = []
    for hid, page, start, end, quote, located in rows:
        if 0 <= page < doc.page_count and doc.page_text(page)[start:end] == quote:
            if not located:
                moved.append((page, start, end, _quads(doc, page, start, end), 1, hid))
            continue
        found = None
        # The same page first, then the others nearest to it.
        for candidate in sorted(range(doc.page_count), key=lambda p, page=page: abs(p - page)):
            span = locate(doc.page_text(candidate), quote, start)
            if span is not None:
                found = (candidate, *span)
                break
        if found is None:
            if located:
                moved.append((page, start, end, None, 0, hid))
            continue
        moved.append((found[0], found[1], found[2], _quads(doc, *found), 1, hid))
    # quads None means "keep the old boxes" for a highlight that was not found
    return [(p, s, e, q, loc, hid) if q is not None else (p, s, e, _old_quads(lib, hid), loc, hid)
            for p, s, e, q, loc, hid in moved]


def _quads(doc: PdfDocument, page: int, start: int, end: int) -> str:
    return json.dumps([list(r) for r in doc.text_rects(page, start, end)])


def _old_quads(lib: Library, highlight_id: int) -> str | None:
    row = lib.conn.execute("SELECT quads FROM highlights WHERE id = ?", (highlight_id,)).fetchone()
    return row[0] if row else None


def state_word(state: str | None) -> str:
    return STATE_WORDS.get(state or "", state or "no PDF")
