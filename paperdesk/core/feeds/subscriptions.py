"""Subscriptions in the `feeds` table: add, rename, interval, group, pause/resume, remove, OPML.

Every user change is one undoable operation (`lib.operation` + `rec.touch("feeds", [id])`).
Health columns (etag, last_*, failures, next_refresh, items_seen) are written by refresh.py.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from paperdesk.core.changes import Changes
from paperdesk.core.feeds.opml import GROUP_SEP, OpmlFeed, read_opml, write_opml
from paperdesk.core.library import Library, LibraryError
from paperdesk.core.limits import MAX_SOURCE_NAME_CHARS, clean_line
from paperdesk.core.ops import OpRecorder, fetch_row
from paperdesk.core.timeutil import now_iso

DEFAULT_EVERY = 6 * 3600
MIN_EVERY = 5 * 60  # be polite: nobody needs a feed more often
MAX_EVERY = 30 * 24 * 3600
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.I)


class FeedError(LibraryError):
    """A feed command that cannot be done; the message is for the user."""


@dataclass
class Feed:
    id: int
    url: str
    name: str
    feed_group: str
    every_seconds: int
    paused: bool
    etag: str | None
    last_modified: str | None
    last_attempt: str | None
    last_success: str | None
    last_error: str | None
    failures: int
    next_refresh: str | None
    items_seen: int
    added_at: str

    @property
    def is_folder(self) -> bool:
        """A watched folder of digest files (url is a file:// URI)."""
        return self.url.startswith("file:")

    @property
    def folder(self) -> Path:
        return folder_path(self.url)

    @property
    def health(self) -> str:
        """One word for lists: paused, new, ok, failing."""
        if self.paused:
            return "paused"
        if self.last_error:
            return "failing"
        return "ok" if self.last_success else "new"

    def to_json(self) -> dict:
        data = asdict(self)
        data["paused"] = bool(self.paused)
        data["group"] = data.pop("feed_group")
        data["health"] = self.health
        data["kind"] = "folder" if self.is_folder else "web"
        data.pop("etag")
        data.pop("last_modified")
        return data


def parse_interval(text: str) -> int:
    """'6h', '30m', '1d', '90s' or plain seconds → seconds, within sane bounds."""
    match = _INTERVAL.match(text or "")
    unit = (match.group(2).lower() or "s") if match else ""
    if not match or unit not in _UNITS:
        raise FeedError(f"not an interval: {text!r} (use e.g. 30m, 6h, 1d)")
    seconds = int(float(match.group(1)) * _UNITS[unit])
    if not MIN_EVERY <= seconds <= MAX_EVERY:
        raise FeedError(f"interval {text!r} out of range: use between 5m and 30d")
    return seconds


def format_interval(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def normalize_url(url: str) -> str:
    """A web address as typed (scheme added if missing), or a folder path as a file:// URI."""
    url = url.strip()
    if not url:
        raise FeedError("no address given")
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        if not urlsplit(url).hostname:
            raise FeedError(f"not a valid web address: {url}")
        return url
    if scheme == "file":
        return folder_url(Path(unquote(urlsplit(url).path)))
    path = Path(url).expanduser()
    if path.exists() or url.startswith(("/", ".", "~")):
        return folder_url(path)
    if scheme == "" and re.match(r"^[\w.-]+\.[a-z]{2,}(/|$)", url, re.I):
        return "https://" + url
    raise FeedError(f"not a web address or folder: {url}")


def folder_path(url: str) -> Path:
    """The folder a file:// subscription watches."""
    return Path(unquote(urlsplit(url).path))


def folder_url(path: Path) -> str:
    path = path.expanduser().resolve()
    if not path.is_dir():
        raise FeedError(f"not a folder: {path}")
    return path.as_uri()


def clean_group(group: str | None) -> str:
    return GROUP_SEP.join(p.strip() for p in (group or "").split(GROUP_SEP) if p.strip())


# -- reading ---------------------------------------------------------------------------------------
def _feed(row: dict) -> Feed:
    row["paused"] = bool(row["paused"])
    return Feed(**row)


def _default_name(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path)).name or url
    return parts.hostname or url


# -- OPML --------------------------------------------------------------------------------------------
@dataclass
class OpmlImport:
    added: list[Feed]
    already: list[str]  # URLs already subscribed


class Feeds:
    """A library's subscriptions: `lib.feeds` (web feeds and watched folders; every change one
    undoable operation)."""

    def __init__(self, lib: Library):
        self.lib = lib

    def all(self) -> list[Feed]:
        cur = self.lib.conn.execute("SELECT * FROM feeds ORDER BY feed_group, name COLLATE NOCASE, id")
        names = [d[0] for d in cur.description]
        return [_feed(dict(zip(names, row, strict=True))) for row in cur]

    def get(self, feed_id: int) -> Feed:
        row = fetch_row(self.lib.conn, "feeds", [feed_id])
        if row is None:
            raise FeedError(f"no feed with id {feed_id}")
        return _feed(row)

    def find(self, url: str) -> Feed | None:
        row = self.lib.conn.execute("SELECT id FROM feeds WHERE url = ?", (url,)).fetchone()
        return self.get(row[0]) if row else None

    def add(self, url: str, name: str | None = None, *, group: str = "",
            every_seconds: int = DEFAULT_EVERY) -> Feed:
        """Subscribe to a feed URL (already checked by the caller, see discover.probe) or a folder."""
        url = normalize_url(url)
        existing = self.find(url)
        if existing:
            raise FeedError(f"already subscribed: feed {existing.id} ({existing.name})")
        name = " ".join((name or "").split()) or _default_name(url)
        with self.lib.operation("feed-add", f"Subscribe to {name}") as rec:
            feed_id = self._insert(rec, url, name, clean_group(group), every_seconds)
            rec.changed(Changes(sources=True))
        return self.get(feed_id)

    def rename(self, feed_id: int, name: str) -> Feed:
        name = " ".join((clean_line(name, MAX_SOURCE_NAME_CHARS) or "").split())
        if not name:
            raise FeedError("a feed needs a non-empty name")
        return self._update(feed_id, "feed-rename", f"Rename feed {{name}} to {name}", name=name)

    def set_interval(self, feed_id: int, every_seconds: int) -> Feed:
        if not MIN_EVERY <= every_seconds <= MAX_EVERY:
            raise FeedError("interval out of range: use between 5m and 30d")
        return self._update(feed_id, "feed-interval",
                       f"Refresh {{name}} every {format_interval(every_seconds)}",
                       every_seconds=every_seconds)

    def set_paused(self, feed_id: int, paused: bool) -> Feed:
        verb = "Pause" if paused else "Resume"
        columns: dict[str, object] = {"paused": 1 if paused else 0}
        if not paused:
            columns["next_refresh"] = None  # due at once when resumed
        return self._update(feed_id, f"feed-{verb.lower()}", f"{verb} feed {{name}}", **columns)

    def move(self, feed_id: int, url: str) -> Feed:
        """The feed's address moved for good (a permanent redirect): store the new one, as an
        undoable operation, so later refreshes go straight there."""
        existing = self.find(url)
        if existing is not None and existing.id != feed_id:
            raise FeedError(f"feed {existing.id} ({existing.name}) already has that address")
        return self._update(feed_id, "feed-move", f"Feed {{name}} moved permanently to {url}", url=url)

    def remove(self, feed_id: int) -> Feed:
        """Unsubscribe; papers that came from the feed stay in the library (undo brings it back)."""
        feed = self.get(feed_id)
        with self.lib.operation("feed-remove", f"Unsubscribe from {feed.name}") as rec:
            rec.touch("feeds", [feed_id])
            self.lib.conn.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
            rec.changed(Changes(sources=True))
        return feed

    def import_opml(self, data: bytes, *, every_seconds: int = DEFAULT_EVERY) -> OpmlImport:
        """Subscribe to every feed of an OPML list in one undoable operation (known URLs skipped)."""
        entries = read_opml(data)
        if not entries:
            raise FeedError("the OPML file lists no feeds")
        known = {row[0] for row in self.lib.conn.execute("SELECT url FROM feeds")}
        fresh = [e for e in entries if e.url not in known]
        ids: list[int] = []
        if fresh:
            with self.lib.operation("feed-import", f"Import {len(fresh)} feeds from OPML") as rec:
                ids = [self._insert(rec, e.url, e.name, clean_group(e.group), every_seconds) for e in fresh]
                rec.changed(Changes(sources=True))
        return OpmlImport(added=[self.get(i) for i in ids],
                          already=[e.url for e in entries if e.url in known])

    def export_opml(self) -> bytes:
        """Web feeds as OPML 2.0 (watched folders are local to this machine and left out)."""
        return write_opml([OpmlFeed(url=f.url, name=f.name, group=f.feed_group)
                           for f in self.all() if not f.is_folder])

    def _insert(self, rec: OpRecorder, url: str, name: str, group: str, every_seconds: int) -> int:
        # Names come from feed titles and OPML files: printable and bounded, like papers' fields.
        name = clean_line(name, MAX_SOURCE_NAME_CHARS) or _default_name(url)
        cur = self.lib.conn.execute(
            "INSERT INTO feeds (url, name, feed_group, every_seconds, added_at) VALUES (?, ?, ?, ?, ?)",
            (url, name, group, every_seconds, now_iso()))
        feed_id = int(cur.lastrowid or 0)
        rec.touch("feeds", [feed_id], fetch=False)  # did not exist before: undo deletes it
        return feed_id

    def _update(self, feed_id: int, kind: str, label: str, **columns: object) -> Feed:
        with self.lib.operation(kind, label.format(name=self.get(feed_id).name)) as rec:
            rec.touch("feeds", [feed_id], columns=list(columns))  # undo leaves the health alone
            sets = ", ".join(f"{c} = ?" for c in columns)
            self.lib.conn.execute(f"UPDATE feeds SET {sets} WHERE id = ?", [*columns.values(), feed_id])
            rec.changed(Changes(sources=True))
        return self.get(feed_id)
