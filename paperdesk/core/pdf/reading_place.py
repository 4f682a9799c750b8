"""Where the user left each paper's PDF: the page, how far down it, and the zoom if it is not fit
width. The user's state about their library, so it lives in the library (`settings` table, one
`reading_place:<paper id>` row of JSON per paper read past its first screen); bookkeeping, not an
undoable operation. The desk writes it on leaving a paper's PDF and on closing, never while scrolling.
It goes with its paper: an undo that removes the paper (its import undone) removes the row too, and
the redo brings it back (`ops.PAPER_SETTINGS`)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from paperdesk.core.library import Library

KEY = "reading_place:"


@dataclass(frozen=True)
class ReadingPlace:
    page: int  # 0-based
    offset: float  # how far the view's top is into the page, as a share of the page's height
    pages: int  # the PDF's page count then: a newer file with another count keeps the page, not the offset
    zoom: float | None = None  # None: fit width

    @property
    def at_start(self) -> bool:
        """The place a PDF opens at anyway (nothing worth writing)."""
        return self.page == 0 and self.offset <= 0 and self.zoom is None

    def within(self, pages: int) -> ReadingPlace:
        """This place in a file of `pages` pages: the same one if the count is unchanged, else
        the page (clamped to the last) from its top."""
        if pages == self.pages:
            return self
        return ReadingPlace(min(self.page, max(pages - 1, 0)), 0.0, pages, self.zoom)


def load(lib: Library, paper_id: str) -> ReadingPlace | None:
    """The place stored for the paper; None if none (or not readable: it is only a convenience)."""
    return _parse(lib.setting(KEY + paper_id))


def load_all(lib: Library) -> dict[str, ReadingPlace]:
    """Every paper's stored place, by paper id (the desk reads them once, on its reader thread: one
    row per paper read past its first screen, a range of the settings table's key)."""
    rows = lib.conn.execute("SELECT key, value FROM settings WHERE key >= ? AND key < ?",
                            (KEY, KEY[:-1] + chr(ord(KEY[-1]) + 1)))
    places = ((key[len(KEY):], _parse(value)) for key, value in rows)
    return {pid: place for pid, place in places if place is not None}


def _parse(value: str | None) -> ReadingPlace | None:
    try:
        raw = json.loads(value or "null")
        if not isinstance(raw, dict):
            return None
        zoom = raw.get("zoom")
        place = ReadingPlace(int(raw["page"]), float(raw["offset"]), int(raw["pages"]),
                             None if zoom is None else float(zoom))
    except (ValueError, TypeError, KeyError):
        return None
    return place if place.page >= 0 and place.pages > 0 and (place.zoom is None or place.zoom > 0) else None


def store(lib: Library, paper_id: str, place: ReadingPlace) -> None:
    """Keep the place, if the paper is still in the library (the desk writes the place of a PDF it
    leaves, which may be a paper an undo has just removed)."""
    value = json.dumps({"page": place.page, "offset": round(place.offset, 4), "pages": place.pages,
                        "zoom": place.zoom})
    with lib.transaction() as conn:
        conn.execute("INSERT INTO settings (key, value) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM papers "
                     "WHERE id = ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     (KEY + paper_id, value, paper_id))
