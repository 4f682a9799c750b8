"""Notes (Markdown, with revisions) and highlights (quote + position) on papers.

Both are undoable operations. A note save is one SQLite transaction, so a crash leaves either the
previous or the new full text, never half of it. Autosaves of one editing session coalesce into a
single undo step (undo brings back the note as it was before the session), while every save still
keeps a revision that can be restored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from paperdesk.core import abstract_text, ops
from paperdesk.core.changes import Changes
from paperdesk.core.library import Library, LibraryError
from paperdesk.core.normalize import find_arxiv_id, normalize_title
from paperdesk.core.store import enqueue_index
from paperdesk.core.timeutil import now_iso

HIGHLIGHT_COLORS = ("yellow", "green", "blue", "pink")
HIGHLIGHT_FIELDS = ("abstract", "title")
COALESCE_SECONDS = 120  # autosaves closer than this to the last one join its undo step


@dataclass(frozen=True)
class Revision:
    id: int
    paper_id: str
    body: str
    saved_at: str


@dataclass(frozen=True)
class Highlight:
    id: int
    paper_id: str
    field: str
    quote: str
    start: int
    end: int
    color: str
    comment: str
    created_at: str
    page: int | None = None  # PDF highlights: the page (0-based), else None
    quads: list[list[float]] | None = None  # PDF highlights: [x0, y0, x1, y1] boxes in PDF points
    located: bool = True  # False when a newer PDF no longer holds the quote

    def where(self) -> str:
        """'' for the abstract's, 'p. 3' for a PDF page's, plus why it is not drawn when a newer
        PDF of the paper no longer holds its quote."""
        if self.page is None:
            return ""
        return f"p. {self.page + 1}" + ("" if self.located else ", not found in the newer PDF")


_HIGHLIGHT_COLUMNS = ("id, paper_id, field, quote, start, end, color, comment, created_at, "
                      "page, quads, located")


def _highlight(row: tuple) -> Highlight:
    *head, page, quads, located = row
    return Highlight(*head, page=page, quads=json.loads(quads) if quads else None, located=bool(located))


def _check_color(color: str) -> None:
    if color not in HIGHLIGHT_COLORS:
        raise LibraryError(f"unknown colour {color!r} (use {', '.join(HIGHLIGHT_COLORS)})")


def _require_paper(lib: Library, paper_id: str) -> None:
    if not lib.exists(paper_id):
        raise LibraryError(f"no paper with id {paper_id}")


# -- notes ------------------------------------------------------------------------------------
def _coalescible_op(lib: Library, paper_id: str) -> int | None:
    """The last change in effect, if it is this maker's autosave of this paper's note moments ago."""
    row = lib.conn.execute(
        "SELECT o.id, o.created_at, o.origin FROM operations o WHERE o.undone = 0 "
        "ORDER BY o.stamp DESC LIMIT 1"
    ).fetchone()
    if not row or row[2] != lib.origin:
        return None
    op_id, created, _origin = row
    kind_key = lib.conn.execute(
        "SELECT o.kind, r.key FROM operations o JOIN op_rows r ON r.op_id = o.id WHERE o.id = ?",
        (op_id,)).fetchall()
    if len(kind_key) != 1 or kind_key[0][0] != "note-autosave" or kind_key[0][1] != f'["{paper_id}"]':
        return None
    age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(created)
    return op_id if age.total_seconds() <= COALESCE_SECONDS else None


def _write_note(conn, paper_id: str, body: str, now: str) -> None:
    note = {"paper_id": paper_id, "body": body, "updated_at": now} if body else None  # "": no note
    ops.put_row(conn, "notes", [paper_id], note)
    conn.execute("INSERT INTO note_revisions (paper_id, body, saved_at) VALUES (?, ?, ?)",
                 (paper_id, body, now))
    enqueue_index(conn, [paper_id])


# -- highlights -------------------------------------------------------------------------------
def _field_text(lib: Library, paper_id: str, field: str) -> str:
    if field not in HIGHLIGHT_FIELDS:
        raise LibraryError(f"cannot highlight {field!r} (use {' or '.join(HIGHLIGHT_FIELDS)})")
    row = lib.conn.execute(f"SELECT {field} FROM papers WHERE id = ?", (paper_id,)).fetchone()
    if row is None:
        raise LibraryError(f"no paper with id {paper_id}")
    return abstract_text.decode(row[0]) if field == "abstract" else row[0]


# Title first, then the abstract, then the PDF in reading order.
_TEXT_ORDER = "CASE field WHEN 'title' THEN 0 WHEN 'abstract' THEN 1 ELSE 2 END, page, start"


def locate(text: str, quote: str, start: int) -> tuple[int, int] | None:
    """Where `quote` is in `text` now: at its stored position if still there, else the occurrence
    nearest to it, matching runs of whitespace loosely (re-imports may re-wrap text)."""
    if text[start:start + len(quote)] == quote:
        return start, start + len(quote)
    words = quote.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    matches = list(pattern.finditer(text))
    if not matches:
        return None
    best = min(matches, key=lambda m: abs(m.start() - start))
    return best.start(), best.end()


class Notes:
    """A library's notes: `lib.notes` (Markdown, one per paper, with every saved revision)."""

    def __init__(self, lib: Library):
        self.lib = lib

    def get(self, paper_id: str) -> str:
        _require_paper(self.lib, paper_id)
        row = self.lib.conn.execute("SELECT body FROM notes WHERE paper_id = ?", (paper_id,)).fetchone()
        return row[0] if row else ""

    def set(self, paper_id: str, body: str, *, autosave: bool = False) -> Changes:
        """Replace a paper's note; keeps a revision. `autosave` coalesces a typing session's saves."""
        _require_paper(self.lib, paper_id)
        now = now_iso()
        current = self.get(paper_id)
        if body == current:
            return Changes()
        op_id = _coalescible_op(self.lib, paper_id) if autosave else None
        changes = Changes(papers=frozenset([paper_id]), notes=True)
        if op_id is not None:
            with self.lib.transaction(tell=changes) as conn:
                _write_note(conn, paper_id, body, now)
                # A new edit, even merged into the last step, ends the redo stack: a redo must never
                # put an older text over what was typed since.
                ops.drop_redo_stack(conn, self.lib.origin)
                conn.execute("UPDATE operations SET created_at = ?, stamp = ? WHERE id = ?",
                             (now, ops.next_stamp(conn), op_id))
        else:
            kind = "note-autosave" if autosave else "note"
            with self.lib.operation(kind, f"Edit note of {self.lib.paper_label(paper_id)}") as rec:
                rec.touch("notes", [paper_id])
                _write_note(self.lib.conn, paper_id, body, now)
                rec.changed(changes)
        return changes

    def history(self, paper_id: str) -> list[Revision]:
        """Saved revisions, newest first."""
        _require_paper(self.lib, paper_id)
        rows = self.lib.conn.execute(
            "SELECT id, paper_id, body, saved_at FROM note_revisions WHERE paper_id = ? ORDER BY id DESC",
            (paper_id,)).fetchall()
        return [Revision(*r) for r in rows]

    def restore(self, paper_id: str, revision_id: int) -> Changes:
        row = self.lib.conn.execute("SELECT body FROM note_revisions WHERE id = ? AND paper_id = ?",
                                    (revision_id, paper_id)).fetchone()
        if row is None:
            raise LibraryError(f"paper {paper_id} has no note revision {revision_id}")
        return self.set(paper_id, row[0])

    def resolve_link(self, target: str) -> str | None:
        """The id of the paper a `[[arXiv id]]`, `[[paper id]]` or `[[title]]` link names."""
        target = target.strip()
        if self.lib.exists(target):
            return target
        arxiv = find_arxiv_id(target)
        if arxiv:
            row = self.lib.conn.execute("SELECT id FROM papers WHERE arxiv_id = ?", (arxiv,)).fetchone()
            if row:
                return row[0]
        row = self.lib.conn.execute("SELECT id FROM papers WHERE title_norm = ? LIMIT 1",
                                    (normalize_title(target),)).fetchone()
        return row[0] if row else None


class Highlights:
    """A library's highlights: `lib.highlights` (a quote and its place in the title, the abstract
    or a page of the PDF)."""

    def __init__(self, lib: Library):
        self.lib = lib

    def add(self, paper_id: str, start: int, end: int, *, field: str = "abstract",
            color: str = "yellow", comment: str = "") -> tuple[int, Changes]:
        """Highlight text[start:end] of a paper's abstract or title."""
        text = _field_text(self.lib, paper_id, field)
        _check_color(color)
        if not 0 <= start < end <= len(text) or not text[start:end].strip():
            raise LibraryError("select some text of the paper to highlight")
        quote = text[start:end]
        with self.lib.operation("highlight", f"Highlight in {self.lib.paper_label(paper_id)}") as rec:
            cur = self.lib.conn.execute(
                "INSERT INTO highlights (paper_id, field, quote, start, end, color, comment, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (paper_id, field, quote, start, end, color, comment, now_iso()))
            hid = int(cur.lastrowid or 0)
            rec.touch("highlights", [hid], fetch=False)
            enqueue_index(self.lib.conn, [paper_id])
            rec.changed(Changes(papers=frozenset([paper_id]), notes=True))
        return hid, rec.changes

    def add_quote(self, paper_id: str, quote: str, **kwargs: str) -> tuple[int, Changes]:
        """Highlight the first occurrence of `quote` (whitespace-insensitive) in the abstract or title."""
        field = kwargs.get("field", "abstract")
        text = _field_text(self.lib, paper_id, field)
        span = locate(text, quote, 0)
        if span is None:
            raise LibraryError(f"the {field} of {paper_id} does not contain {quote!r}")
        return self.add(paper_id, *span, **kwargs)

    def update(self, highlight_id: int, *, color: str | None = None,
               comment: str | None = None) -> Changes:
        if color is not None:
            _check_color(color)
        with self._changing(highlight_id, "Edit") as row:
            self.lib.conn.execute("UPDATE highlights SET color = ?, comment = ? WHERE id = ?",
                                  (color or row["color"], row["comment"] if comment is None else comment,
                                   highlight_id))
        return Changes(papers=frozenset([row["paper_id"]]), notes=True)

    def remove(self, highlight_id: int) -> Changes:
        with self._changing(highlight_id, "Remove") as row:
            self.lib.conn.execute("DELETE FROM highlights WHERE id = ?", (highlight_id,))
        return Changes(papers=frozenset([row["paper_id"]]), notes=True)

    @contextlib.contextmanager
    def _changing(self, highlight_id: int, verb: str) -> Iterator[dict]:
        """One operation on a stored highlight; the block gets its row as it was."""
        row = ops.fetch_row(self.lib.conn, "highlights", [highlight_id])
        if row is None:
            raise LibraryError(f"no highlight {highlight_id}")
        paper_id = row["paper_id"]
        with self.lib.operation("highlight", f"{verb} highlight in {self.lib.paper_label(paper_id)}") as rec:
            rec.touch("highlights", [highlight_id], row)
            yield row
            enqueue_index(self.lib.conn, [paper_id])
            rec.changed(Changes(papers=frozenset([paper_id]), notes=True))

    def add_pdf_parts(self, paper_id: str,
                      parts: list[tuple[int, int, int, str, list[list[float]]]], *,
                      color: str = "yellow", comment: str = "") -> tuple[list[int], Changes]:
        """One highlight over a page break: a row per page part (page, start, end, quote, quads), each
        a page's character range like any PDF highlight, made and undone as one operation."""
        _require_paper(self.lib, paper_id)
        _check_color(color)
        rows = []
        for page, start, end, quote, quads in parts:
            if page < 0 or not 0 <= start < end or not quote.strip():
                raise LibraryError("select some text of the PDF to highlight")
            boxes = [[float(v) for v in quad] for quad in quads]
            if any(len(quad) != 4 for quad in boxes):
                raise LibraryError("a highlight's boxes need four numbers each (x0, y0, x1, y1)")
            rows.append((page, start, end, quote, boxes))
        if not rows:
            raise LibraryError("select some text of the PDF to highlight")
        pages = sorted({row[0] + 1 for row in rows})
        where = f"page {pages[0]}" if len(pages) == 1 else f"pages {pages[0]}–{pages[-1]}"
        ids: list[int] = []
        label = f"Highlight in {self.lib.paper_label(paper_id)}, {where}"
        with self.lib.operation("highlight", label) as rec:
            for page, start, end, quote, boxes in rows:
                cur = self.lib.conn.execute(
                    "INSERT INTO highlights (paper_id, field, quote, start, end, color, comment, created_at, "
                    "page, quads, located) VALUES (?, 'pdf', ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                    (paper_id, quote, start, end, color, comment, now_iso(), page, json.dumps(boxes)))
                ids.append(int(cur.lastrowid or 0))
            rec.touch_many_new("highlights", [[hid] for hid in ids])
            enqueue_index(self.lib.conn, [paper_id])
            rec.changed(Changes(papers=frozenset([paper_id]), notes=True))
        return ids, rec.changes

    def of(self, paper_id: str | None = None) -> list[Highlight]:
        """Highlights of one paper (in text order) or of the whole library (newest first)."""
        if paper_id is not None:
            rows = self.lib.conn.execute(
                f"SELECT {_HIGHLIGHT_COLUMNS} FROM highlights WHERE paper_id = ? ORDER BY {_TEXT_ORDER}",
                (paper_id,))
        else:
            rows = self.lib.conn.execute(
                f"SELECT {_HIGHLIGHT_COLUMNS} FROM highlights ORDER BY created_at DESC, id DESC")
        return [_highlight(r) for r in rows.fetchall()]

    def get(self, highlight_id: int) -> Highlight | None:
        row = self.lib.conn.execute(f"SELECT {_HIGHLIGHT_COLUMNS} FROM highlights WHERE id = ?",
                                    (highlight_id,)).fetchone()
        return _highlight(row) if row else None

