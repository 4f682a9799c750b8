"""OPML subscription lists in and out; nested folders become groups like "Science/Physics".

Real exports are often not well-formed XML (raw '&' and '<br>' inside attributes), so reading
uses the forgiving HTML tokenizer rather than an XML parser; attribute names are case-folded,
which also accepts LiveJournal's `xmlURL`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from paperdesk.core.feeds.sanitize import plain_to_text
from paperdesk.core.records import RejectedInput

GROUP_SEP = "/"


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    name: str
    group: str = ""


class _OutlineReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str | None] = []  # folder names of the open outlines (None: a feed)
        self.feeds: list[OpmlFeed] = []
        self.saw_opml = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "opml":
            self.saw_opml = True
        if tag != "outline":
            return
        a = {k: (v or "") for k, v in attrs}
        label = plain_to_text(a.get("title") or a.get("text") or "", single_line=True)
        url = (a.get("xmlurl") or "").strip()
        if url:
            group = GROUP_SEP.join(name for name in self.stack if name)
            self.feeds.append(OpmlFeed(url=url, name=label or url, group=group))
            self.stack.append(None)
        else:
            self.stack.append(label.replace(GROUP_SEP, "-") or None)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "outline":
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag == "outline" and self.stack:
            self.stack.pop()


def read_opml(data: bytes) -> list[OpmlFeed]:
    """Feeds listed in an OPML document (in order, duplicates dropped), or RejectedInput."""
    text = _decode(data)
    reader = _OutlineReader()
    reader.feed(text)
    reader.close()
    if not reader.saw_opml:
        raise RejectedInput("not an OPML file (no <opml> element)")
    seen: set[str] = set()
    feeds = []
    for feed in reader.feeds:
        if urlsplit(feed.url).scheme in ("http", "https") and feed.url not in seen:
            seen.add(feed.url)
            feeds.append(feed)
    return feeds


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # OPML is nearly always UTF-8; never refuse a list over it


def write_opml(feeds: list[OpmlFeed], *, title: str = "PaperDesk subscriptions") -> bytes:
    """OPML 2.0 with one nested folder outline per group level."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    body = ET.SubElement(root, "body")
    folders: dict[tuple[str, ...], ET.Element] = {(): body}
    for feed in sorted(feeds, key=lambda f: (f.group.split(GROUP_SEP) if f.group else [], f.name.casefold())):
        path = tuple(p for p in feed.group.split(GROUP_SEP) if p)
        for depth in range(1, len(path) + 1):
            if path[:depth] not in folders:
                folders[path[:depth]] = ET.SubElement(
                    folders[path[: depth - 1]], "outline", text=path[depth - 1], title=path[depth - 1])
        ET.SubElement(folders[path], "outline", type="rss", text=feed.name, title=feed.name,
                      xmlUrl=feed.url)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
