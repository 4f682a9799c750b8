"""A small, Qt-free wrapper around pypdfium2: the only module that imports it.

Coordinates are PDF points in pdfium's page space (origin bottom-left, y up); a page is shown from its
visible box (the crop box within the media box), which need not start at (0, 0), turned by its
/Rotate: ``PageFrame`` maps between the two. Character indices are
pdfium's: ``page_text(i)[k]`` is the character whose box is ``char_boxes(i)[k]``, so a highlight stored as
``(page, start, end)`` means the same characters to search, selection and drawing.

Threads: pdfium is not thread-safe, not even across documents. Every call into it goes through
``PDFIUM_LOCK`` (one process-wide re-entrant lock), so a renderer thread and the GUI thread may share a
document; a caller waits at most for one call in progress (a page render). Documents, pages and text
pages are closed explicitly under the lock, never left to a finalizer on whatever thread collects them.
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paperdesk.core.pdf import bidi

# pypdfium2 and its raw API: imported by the first `PdfDocument.open` (`_load_pdfium`), so the
# desk starts without pdfium's library (~25 ms and its memory) until a PDF is shown.
pdfium: Any = None
raw: Any = None

PDFIUM_LOCK = threading.RLock()

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in points, y up


class PdfError(Exception):
    """A PDF that cannot be read; the message is one line for the user."""


class PdfEncrypted(PdfError):
    """The PDF needs a password, or the one given is wrong."""

    def __init__(self, message: str, *, wrong_password: bool) -> None:
        super().__init__(message)
        self.wrong_password = wrong_password


class PdfBroken(PdfError):
    """Not a PDF, truncated or corrupt."""


@dataclass(frozen=True)
class PageFrame:
    """How a page is shown: its visible box in page space (the crop box within the media box, as
    pdfium renders it) and its rotation in quarter turns clockwise. "Shown" coordinates are points
    from the top-left corner of the page as rendered, y down."""

    box: Rect
    turns: int = 0

    def to_shown(self, x: float, y: float) -> tuple[float, float]:
        bx0, by0, bx1, by1 = self.box
        u, v = x - bx0, by1 - y  # from the box's top-left, not turned
        width, height = bx1 - bx0, by1 - by0
        if self.turns == 1:
            return height - v, u
        if self.turns == 2:
            return width - u, height - v
        if self.turns == 3:
            return v, width - u
        return u, v

    def to_pdf(self, u: float, v: float) -> tuple[float, float]:
        bx0, by0, bx1, by1 = self.box
        width, height = bx1 - bx0, by1 - by0
        if self.turns == 1:
            u, v = v, height - u
        elif self.turns == 2:
            u, v = width - u, height - v
        elif self.turns == 3:
            u, v = width - v, u
        return bx0 + u, by1 - v

    def rect_to_shown(self, rect: Rect) -> Rect:
        """A rectangle in page space as (left, top, right, bottom) of the shown page."""
        u0, v0 = self.to_shown(rect[0], rect[1])
        u1, v1 = self.to_shown(rect[2], rect[3])
        return min(u0, u1), min(v0, v1), max(u0, u1), max(v0, v1)


@dataclass(frozen=True)
class Link:
    rect: Rect
    page: int | None = None  # internal target page, or None
    y: float | None = None  # target height on that page, points from the bottom, when the PDF says
    uri: str | None = None  # external target


@dataclass(frozen=True)
class Annotation:
    """An annotation another program put in the PDF (shown read-only)."""

    kind: str  # "highlight", "text", "ink", "underline", ...
    rect: Rect
    quads: list[Rect] = field(default_factory=list)
    contents: str = ""
    color: tuple[int, int, int, int] | None = None  # RGBA


_ANNOT_KINDS: dict[int, str] = {}  # pdfium's annotation subtypes by name (filled with pdfium)
_OPEN_ERRORS: dict[int, str] = {}


def _load_pdfium() -> None:
    """Import pypdfium2 (once; under PDFIUM_LOCK) and fill the tables of its constants."""
    global pdfium, raw
    if raw is not None:
        return
    import pypdfium2
    import pypdfium2.raw

    api = pypdfium2.raw
    _ANNOT_KINDS.update({
        getattr(api, f"FPDF_ANNOT_{name.upper()}"): name
        for name in (
            "text", "link", "freetext", "line", "square", "circle", "polygon", "polyline", "highlight",
            "underline", "squiggly", "strikeout", "stamp", "caret", "ink", "popup", "fileattachment",
            "sound", "widget", "redact",
        )
    })
    _OPEN_ERRORS.update({
        api.FPDF_ERR_FILE: "the file cannot be read",
        api.FPDF_ERR_FORMAT: "not a PDF, or truncated or corrupt",
        api.FPDF_ERR_SECURITY: "it uses an encryption that is not supported",
        api.FPDF_ERR_PAGE: "its pages cannot be read",
    })
    pdfium, raw = pypdfium2, api


def line_rects(boxes: np.ndarray, start: int, end: int) -> list[Rect]:
    """Rectangles covering characters ``start..end`` (end excluded) given their boxes: one per run of
    characters on one line. Pure Python over cached boxes, so a view can call it while painting."""
    out: list[list[float]] = []
    for x0, y0, x1, y1 in boxes[max(start, 0) : end].tolist():
        if x1 <= x0 or y1 <= y0:
            continue  # spaces and line ends pdfium generated
        if out:
            last = out[-1]
            overlap = min(y1, last[3]) - max(y0, last[1])
            if overlap > 0.5 * min(y1 - y0, last[3] - last[1]) and x0 >= last[0] - 1:
                last[0], last[1] = min(last[0], x0), min(last[1], y0)
                last[2], last[3] = max(last[2], x1), max(last[3], y1)
                continue
        out.append([x0, y0, x1, y1])
    return [(a, b, c, d) for a, b, c, d in out]


def char_index_at(boxes: np.ndarray, x: float, y: float, tolerance: float = 0.0) -> int | None:
    """The character whose box holds (x, y), else the nearest within ``tolerance`` points."""
    if len(boxes) == 0:
        return None
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    distance = np.maximum(np.maximum(x0 - x, x - x1), np.maximum(y0 - y, y - y1)).clip(min=0.0)
    distance[(x1 <= x0) | (y1 <= y0)] = np.inf  # generated characters have no box
    k = int(distance.argmin())
    return k if distance[k] <= tolerance else None


def _rects(tp: pdfium.PdfTextPage, start: int, end: int) -> list[Rect]:
    out: list[Rect] = []
    n = raw.FPDFText_CountRects(tp, start, end - start)
    left, top, right, bottom = (ctypes.c_double() for _ in range(4))
    for k in range(max(0, n)):
        if raw.FPDFText_GetRect(tp, k, left, top, right, bottom):
            out.append((left.value, bottom.value, right.value, top.value))
    return out


class PdfDocument:
    """An open PDF. Open with ``PdfDocument.open``; ``close()`` when done (also a context manager)."""

    def __init__(self, doc: pdfium.PdfDocument, path: Path) -> None:
        self._doc = doc
        self.path = path
        self._sizes: list[tuple[float, float]] = [doc.get_page_size(i) for i in range(len(doc))]
        self._texts: dict[int, str] = {}
        self._boxes: dict[int, np.ndarray] = {}
        self._folded: dict[int, str] = {}
        self._frames: dict[int, PageFrame] = {}
        self._has_text: bool | None = None

    @classmethod
    def open(cls, path: str | Path, password: str | None = None) -> PdfDocument:
        path = Path(path)
        name = path.name
        if not path.is_file():
            raise PdfBroken(f"{name}: no such file")
        with PDFIUM_LOCK:
            _load_pdfium()
            try:
                doc = pdfium.PdfDocument(path, password=password)
            except pdfium.PdfiumError as exc:
                code = getattr(exc, "err_code", None)
                if code == raw.FPDF_ERR_PASSWORD:
                    if password:
                        raise PdfEncrypted(f"{name}: wrong password", wrong_password=True) from None
                    message = f"{name} is encrypted: it needs a password"
                    raise PdfEncrypted(message, wrong_password=False) from None
                reason = _OPEN_ERRORS.get(code, "it cannot be opened")
                raise PdfBroken(f"{name}: {reason}") from None
            except OSError as exc:
                raise PdfBroken(f"{name}: {exc.strerror or exc}") from None
            try:
                return cls(doc, path)
            except pdfium.PdfiumError:
                doc.close()
                raise PdfBroken(f"{name}: its pages cannot be read") from None

    def close(self) -> None:
        with PDFIUM_LOCK:
            self._doc.close()

    def save_decrypted(self, dest: Path) -> None:
        """Write this (opened with its password) document to ``dest`` without its encryption."""
        with PDFIUM_LOCK, dest.open("wb") as f:
            self._doc.save(f, flags=raw.FPDF_REMOVE_SECURITY)

    def __enter__(self) -> PdfDocument:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Pages ------------------------------------------------------------------------------------------

    @property
    def page_count(self) -> int:
        return len(self._sizes)

    def page_size(self, i: int) -> tuple[float, float]:
        """Width and height of page ``i`` in points."""
        return self._sizes[i]

    @contextmanager
    def _page(self, i: int) -> Iterator[pdfium.PdfPage]:
        with PDFIUM_LOCK:
            page = self._doc[i]
            try:
                yield page
            finally:
                page.close()

    @contextmanager
    def _textpage(self, i: int) -> Iterator[pdfium.PdfTextPage]:
        with self._page(i) as page:
            textpage = page.get_textpage()
            try:
                yield textpage
            finally:
                textpage.close()

    def page_frame(self, i: int) -> PageFrame:
        """Where page ``i``'s points are shown (kept once read; a render reads it too)."""
        frame = self._frames.get(i)
        if frame is None:
            with self._page(i) as page:
                frame = self._read_frame(i, page)
        return frame

    def _read_frame(self, i: int, page: pdfium.PdfPage) -> PageFrame:
        if i not in self._frames:
            rect = raw.FS_RECTF()
            if raw.FPDF_GetPageBoundingBox(page, rect):
                box = (min(rect.left, rect.right), min(rect.bottom, rect.top),
                       max(rect.left, rect.right), max(rect.bottom, rect.top))  # fmt: skip
            else:
                box = (0.0, 0.0, *self._sizes[i])
            self._frames[i] = PageFrame(box, raw.FPDFPage_GetRotation(page) % 4)
        return self._frames[i]

    def render(self, i: int, scale: float) -> tuple[bytes, int, int, int]:
        """Page ``i`` at ``scale`` pixels per point, with its annotations: (BGRX bytes, width, height,
        stride), which ``QImage(data, w, h, stride, QImage.Format_RGB32)`` wraps on little-endian.
        Reads the page's frame on the way (the page is loaded anyway)."""
        with self._page(i) as page:
            self._read_frame(i, page)
            bitmap = page.render(scale=scale, prefer_bgrx=True, draw_annots=True)
            try:
                return bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride
            finally:
                bitmap.close()

    # Text -------------------------------------------------------------------------------------------

    @staticmethod
    def _read_text(tp: pdfium.PdfTextPage) -> str:
        n = tp.count_chars()
        text = tp.get_text_range(0, n) if n > 0 else ""
        if len(text) != max(n, 0):  # pdfium left out or added characters: one per index
            text = "".join(chr(raw.FPDFText_GetUnicode(tp, k) or 0xFFFD) for k in range(n))
        return text

    def page_text(self, i: int) -> str:
        """The text of page ``i``, one character per pdfium character index (line ends are \\r\\n)."""
        if i not in self._texts:
            with self._textpage(i) as tp:
                self._texts[i] = self._read_text(tp)
        return self._texts[i]

    def char_boxes(self, i: int) -> np.ndarray:
        """Each character's box on page ``i`` as rows (x0, y0, x1, y1): the font's height, not the
        glyph's ink; generated characters (spaces and line ends pdfium adds) have empty boxes. One
        array, not a tuple per character: thousands of tuples per page set off garbage collections
        that hold the GIL."""
        if i not in self._boxes:
            with self._textpage(i) as tp:
                n = max(tp.count_chars(), 0)
                boxes = np.zeros((n, 4))
                rect = raw.FS_RECTF()
                left, right, bottom, top = (ctypes.c_double() for _ in range(4))
                for k in range(n):
                    if raw.FPDFText_GetLooseCharBox(tp, k, rect):
                        boxes[k] = rect.left, rect.bottom, rect.right, rect.top
                    elif raw.FPDFText_GetCharBox(tp, k, left, right, bottom, top):
                        boxes[k] = left.value, bottom.value, right.value, top.value
            self._boxes[i] = boxes
        return self._boxes[i]

    def text_rects(self, i: int, start: int, end: int) -> list[Rect]:
        """Rectangles covering characters ``start..end`` (end excluded) of page ``i``, one per run of
        characters on a line: the quads a highlight is drawn from."""
        if end <= start:
            return []
        with self._textpage(i) as tp:
            return _rects(tp, start, end)

    @property
    def has_text_layer(self) -> bool:
        """Whether any page has extractable text (a scan without OCR has none)."""
        if self._has_text is None:
            self._has_text = any(self.page_text(i).strip() for i in range(self.page_count))
        return self._has_text

    def _folded_text(self, i: int) -> str:
        if i not in self._folded:
            text = self.page_text(i)
            folded = text.lower()  # not casefold(): ß -> ss would shift every index after it
            if len(folded) != len(text):  # İ -> i̇ and the like: per character, keeping indices
                folded = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
            self._folded[i] = bidi.logical(folded)  # right-to-left words as typed; same indices
        return self._folded[i]

    @staticmethod
    def _pattern(text: str) -> re.Pattern[str] | None:
        words = text.lower().split()
        return re.compile(r"\s+".join(map(bidi.word_pattern, words))) if words else None

    def search(self, text: str, pages: range | None = None) -> list[tuple[int, int, int]]:
        """Every case-insensitive occurrence of ``text``: (page, start, length), in reading order.
        Any run of spaces in ``text`` matches any whitespace in the page, a line break included."""
        pattern = self._pattern(text)
        if pattern is None:
            return []
        hits: list[tuple[int, int, int]] = []
        for i in pages if pages is not None else range(self.page_count):
            folded = self._folded_text(i)
            for m in pattern.finditer(folded):
                start, end = bidi.visual_span(folded, m.start(), m.end())
                hits.append((i, start, end - start))
        return hits

    # Structure --------------------------------------------------------------------------------------

    def outline(self) -> list[tuple[int, str, int | None, float | None]]:
        """The table of contents: (level from 0, title, target page or None, target height on it in
        points from the bottom when the PDF says: a section starting mid-page)."""
        out: list[tuple[int, str, int | None, float | None]] = []
        with PDFIUM_LOCK:
            for bookmark in self._doc.get_toc():
                dest = bookmark.get_dest()
                page, y = self._dest_target(dest.raw) if dest is not None else (None, None)
                out.append((bookmark.level, bookmark.get_title(), page, y))
        return out

    def _dest_target(self, dest: object) -> tuple[int | None, float | None]:
        page = raw.FPDFDest_GetDestPageIndex(self._doc, dest)
        has_x, has_y, has_zoom = (raw.FPDF_BOOL() for _ in range(3))
        x, y, zoom = (raw.FS_FLOAT() for _ in range(3))
        y_value = None
        if raw.FPDFDest_GetLocationInPage(dest, has_x, has_y, has_zoom, x, y, zoom) and has_y.value:
            y_value = y.value
        return (page if page >= 0 else None), y_value

    def _annotations(self, i: int) -> Iterator[tuple[int, object]]:
        with self._page(i) as page:
            for k in range(raw.FPDFPage_GetAnnotCount(page)):
                annot = raw.FPDFPage_GetAnnot(page, k)
                if not annot:
                    continue
                try:
                    yield raw.FPDFAnnot_GetSubtype(annot), annot
                finally:
                    raw.FPDFPage_CloseAnnot(annot)

    @staticmethod
    def _annot_rect(annot: object) -> Rect:
        rect = raw.FS_RECTF()
        raw.FPDFAnnot_GetRect(annot, rect)
        return (min(rect.left, rect.right), min(rect.bottom, rect.top),
                max(rect.left, rect.right), max(rect.bottom, rect.top))  # fmt: skip

    def links(self, i: int) -> list[Link]:
        """Link areas on page ``i``: internal (target page) or external (URI)."""
        out: list[Link] = []
        for kind, annot in self._annotations(i):
            if kind != raw.FPDF_ANNOT_LINK:
                continue
            link = raw.FPDFAnnot_GetLink(annot)
            if not link:
                continue
            rect = self._annot_rect(annot)
            dest = raw.FPDFLink_GetDest(self._doc, link)
            action = raw.FPDFLink_GetAction(link)
            if not dest and action and raw.FPDFAction_GetType(action) == raw.PDFACTION_GOTO:
                dest = raw.FPDFAction_GetDest(self._doc, action)
            if dest:
                page, y = self._dest_target(dest)
                out.append(Link(rect, page=page, y=y))
            elif action and raw.FPDFAction_GetType(action) == raw.PDFACTION_URI:
                size = raw.FPDFAction_GetURIPath(self._doc, action, None, 0)
                buffer = ctypes.create_string_buffer(size)
                raw.FPDFAction_GetURIPath(self._doc, action, buffer, size)
                out.append(Link(rect, uri=buffer.value.decode("utf-8", errors="replace")))
        return out

    def annotations(self, i: int) -> list[Annotation]:
        """Annotations other programs put on page ``i`` (links, form widgets and pop-ups left out)."""
        out: list[Annotation] = []
        skip = {raw.FPDF_ANNOT_LINK, raw.FPDF_ANNOT_WIDGET, raw.FPDF_ANNOT_POPUP}
        for kind, annot in self._annotations(i):
            if kind in skip:
                continue
            quads: list[Rect] = []
            for q in range(raw.FPDFAnnot_CountAttachmentPoints(annot)):
                points = raw.FS_QUADPOINTSF()
                if raw.FPDFAnnot_GetAttachmentPoints(annot, q, points):
                    xs = (points.x1, points.x2, points.x3, points.x4)
                    ys = (points.y1, points.y2, points.y3, points.y4)
                    quads.append((min(xs), min(ys), max(xs), max(ys)))
            size = raw.FPDFAnnot_GetStringValue(annot, b"Contents", None, 0)
            contents = ""
            if size > 2:
                buffer = ctypes.create_string_buffer(size)
                wide = ctypes.cast(buffer, ctypes.POINTER(raw.FPDF_WCHAR))
                raw.FPDFAnnot_GetStringValue(annot, b"Contents", wide, size)
                contents = bytes(buffer)[: size - 2].decode("utf-16-le", errors="replace")  # no NUL
            r, g, b, a = (ctypes.c_uint() for _ in range(4))
            color = None
            if raw.FPDFAnnot_GetColor(annot, raw.FPDFANNOT_COLORTYPE_Color, r, g, b, a):
                color = (r.value, g.value, b.value, a.value)
            name = _ANNOT_KINDS.get(kind, "other")
            out.append(Annotation(name, self._annot_rect(annot), quads, contents, color))
        return out

    def metadata(self) -> dict[str, str]:
        """The document information dictionary (Title, Author, Subject, ...), empty values left out."""
        with PDFIUM_LOCK:
            return self._doc.get_metadata_dict(skip_empty=True)
