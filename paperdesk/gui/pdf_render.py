"""Pages of the open PDF rendered off the GUI thread, and a memory-bounded cache of them.

One plain daemon thread per desk (like the reader thread) does all pdfium work the PDF view needs
besides small look-ups: page renders, and tasks such as a search over every page. The view says
which pages it wants (`want`, newest list wins; visible pages first); each finished page reaches the
GUI thread by a queued signal as a `QImage` it owns. With nothing else to do it reads the pages'
text ahead, so a search soon after opening scans strings instead of loading 100+ pages. The thread
also closes documents the view has let go, so none is closed while the thread may still use it.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict, deque
from collections.abc import Callable

from paperdesk.core.pdf import Annotation, Link, PdfDocument, PdfError
from paperdesk.gui.qt import QApplication, QImage, QObject, Signal

CACHE_BYTES = 64 * 1024 * 1024  # rendered pages kept: ~14 A4 pages 900 px wide, 4 at 2x (high DPI)
IDLE_EXIT_S = 30.0

Key = tuple[int, int]  # page, scale in thousandths


def scale_key(scale: float) -> int:
    return round(scale * 1000)


class PageCache:
    """Rendered pages by (page, scale), least recently used dropped past `limit` bytes."""

    def __init__(self, limit: int = CACHE_BYTES):
        self.limit = limit
        self.size = 0
        self._images: OrderedDict[Key, QImage] = OrderedDict()

    def get(self, key: Key) -> QImage | None:
        image = self._images.get(key)
        if image is not None:
            self._images.move_to_end(key)
        return image

    def any_scale(self, page: int) -> QImage | None:
        """Some rendering of `page` (another zoom), to stretch until the right one arrives."""
        for (p, _), image in reversed(self._images.items()):
            if p == page:
                return image
        return None

    def put(self, key: Key, image: QImage) -> None:
        old = self._images.pop(key, None)
        if old is not None:
            self.size -= old.sizeInBytes()
        self._images[key] = image
        self.size += image.sizeInBytes()
        while self.size > self.limit and len(self._images) > 1:
            _, dropped = self._images.popitem(last=False)
            self.size -= dropped.sizeInBytes()

    def __contains__(self, key: Key) -> bool:
        return key in self._images

    def clear(self) -> None:
        self._images.clear()
        self.size = 0


class PageRenderer(QObject):
    """`want([(page, scale), ...])` → `page_ready(generation, page, scale_key, image, links, annots)`."""

    page_ready = Signal(int, int, int, object, object, object)
    _arrived = Signal(str, int, object)  # kind, token, payload: emitted on the render thread

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._cond = threading.Condition()
        self._doc: PdfDocument | None = None
        self._retired: list[PdfDocument] = []
        self._text_next: int | None = None  # the next page whose text is read while idle
        self.generation = 0
        self._wanted: deque[tuple[int, float]] = deque()
        self._tasks: deque[tuple[int, Callable[[PdfDocument], object]]] = deque()
        self._callbacks: dict[int, tuple[int, Callable[[object, str], None]]] = {}
        self._tokens = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._closed = False
        self.dark = False  # invert pages (a dark theme)
        self._arrived.connect(self._deliver)  # connected here, on the GUI thread
        app = QApplication.instance()
        if app is not None:  # pdfium's own exit clean-up must not race this thread
            app.aboutToQuit.connect(self.close)

    # -- GUI side -------------------------------------------------------------------------------
    def set_document(self, doc: PdfDocument | None) -> int:
        """Show `doc` from now on; the previous one is closed by the render thread."""
        with self._cond:
            if self._doc is not None and self._doc is not doc:
                self._retired.append(self._doc)
            self._doc = doc
            self._text_next = 0 if doc is not None and doc.page_count else None
            self.generation += 1
            self._wanted.clear()
            self._tasks.clear()
            self._callbacks.clear()
            self._wake()
            return self.generation

    def want(self, pages: list[tuple[int, float]]) -> None:
        """The pages to render, most wanted first; replaces the previous wish."""
        with self._cond:
            self._wanted = deque(pages)
            if pages:
                self._wake()

    def submit(self, fn: Callable[[PdfDocument], object], callback: Callable[[object, str], None]) -> None:
        """Run `fn(doc)` on the render thread before any pending render; `callback(value, error)` on
        the GUI thread, unless the document changed meanwhile."""
        with self._cond:
            token = next(self._tokens)
            self._callbacks[token] = (self.generation, callback)
            self._tasks.append((token, fn))
            self._wake()

    def idle(self) -> bool:
        """Nothing to render and no task waiting (reading text ahead does not count)."""
        with self._cond:
            return not self._wanted and not self._tasks

    def close(self, wait_s: float = 2.0) -> None:
        """Stop the thread after it closed the documents (waits up to `wait_s` for a render)."""
        with self._cond:
            self._closed = True
            if self._doc is not None:
                self._retired.append(self._doc)
                self._doc = None
            self._wake()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait_s)

    def _wake(self) -> None:
        # Called with the condition held.
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="paperdesk-pdf", daemon=True)
            self._thread.start()
        self._cond.notify()

    def _deliver(self, kind: str, token: int, payload: object) -> None:
        if kind == "task":
            entry = self._callbacks.pop(token, None)
            if entry is not None and entry[0] == self.generation:
                value, error = payload  # type: ignore[misc]
                entry[1](value, error)
        elif token == self.generation:
            self.page_ready.emit(token, *payload)  # type: ignore[misc]

    # -- render thread --------------------------------------------------------------------------
    def _has_work(self) -> bool:
        # Called with the condition held.
        return bool(self._closed or self._retired or self._tasks
                    or (self._doc and (self._wanted or self._text_next is not None)))

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._has_work():
                    idle = not self._cond.wait(IDLE_EXIT_S)
                    if idle and not self._has_work():
                        self._thread = None
                        return
                retired, self._retired = self._retired, []
                doc, generation = self._doc, self.generation
                task = self._tasks.popleft() if self._tasks else None
                page = self._wanted.popleft() if task is None and self._wanted else None
                text_page = None
                if task is None and page is None and doc is not None and self._text_next is not None:
                    text_page = self._text_next
                    self._text_next = text_page + 1 if text_page + 1 < doc.page_count else None
                closed = self._closed
            for old in retired:
                try:
                    old.close()
                except Exception:  # already closed (the interpreter is exiting): nothing to free
                    pass
            if closed:
                return
            if doc is None:
                continue
            if task is not None:
                token, fn = task
                try:
                    outcome: tuple[object, str] = (fn(doc), "")
                except PdfError as exc:
                    outcome = (None, str(exc))
                except Exception as exc:  # a task's failure is reported, never kills the thread
                    outcome = (None, str(exc) or type(exc).__name__)
                self._emit("task", token, outcome)
            elif page is not None:
                self._render(doc, generation, *page)
            elif text_page is not None:
                try:
                    doc.page_text(text_page)  # read ahead while idle: a search later finds it read
                except Exception:
                    pass

    def _render(self, doc: PdfDocument, generation: int, page: int, scale: float) -> None:
        try:
            data, width, height, stride = doc.render(page, scale)
            links: list[Link] = doc.links(page)
            annots: list[Annotation] = doc.annotations(page)
        except Exception:  # a page pdfium cannot draw stays a placeholder
            return
        image = QImage(data, width, height, stride, QImage.Format.Format_RGB32).copy()
        if self.dark:
            image.invertPixels()
        self._emit("page", generation, (page, scale_key(scale), image, links, annots))

    def _emit(self, kind: str, token: int, payload: object) -> None:
        try:
            self._arrived.emit(kind, token, payload)
        except RuntimeError:  # the GUI object is gone
            pass
