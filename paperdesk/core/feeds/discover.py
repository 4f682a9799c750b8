"""What an address the user typed points at: a feed, or a web page that links one.

Network only (no database): safe in a worker thread. `probe` returns the feed's own URL and title
so `lib.feeds.add` can store it.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from paperdesk.core.feeds.fetch import DEFAULT_LIMITS, FetchLimits, fetch, make_client
from paperdesk.core.feeds.parse import parse_document
from paperdesk.core.records import RejectedInput

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json",
              "application/json", "application/xml", "text/xml")


@dataclass
class Probe:
    url: str  # the feed's address (a linked feed's, when a page was given)
    title: str  # the feed's own title, plain text
    kind: str  # "feed", "arxiv" or "hf"
    items: int


class ProbeError(Exception):
    """The address is not usable as a feed; the message says why in plain words."""


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (type, href)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        a = {k: (v or "") for k, v in attrs}
        rels = a.get("rel", "").lower().split()
        kind = a.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES and a.get("href"):
            self.links.append((kind, a["href"].strip()))


def feed_links(html: bytes, base_url: str) -> list[str]:
    """Feed URLs a page announces with <link rel="alternate" type="application/rss+xml" ...>."""
    finder = _LinkFinder()
    finder.feed(html.decode("utf-8", errors="replace"))
    finder.close()
    ranked = sorted(finder.links, key=lambda link: FEED_TYPES.index(link[0]))
    return list(dict.fromkeys(urljoin(base_url, href) for _, href in ranked))


def probe(url: str, *, limits: FetchLimits = DEFAULT_LIMITS) -> Probe:
    """Fetch `url`; if it is a page, follow its first feed link that parses. Raises ProbeError."""
    with make_client(limits) as client:
        result = fetch(client, url, limits=limits)
        if result.status != "ok":
            raise ProbeError(f"{url}: {result.error or 'no content'}")
        try:
            parsed = parse_document(result.body, url=result.final_url, name="",
                                    content_type=result.content_type)
            return Probe(url=url, title=parsed.title, kind=parsed.batch.kind, items=parsed.items)
        except RejectedInput as exc:
            links = feed_links(result.body, result.final_url)
            if not links:
                raise ProbeError(f"{url}: {exc}; the page links no feed either") from None
        problems = []
        for link in links[:3]:
            linked = fetch(client, link, limits=limits)
            if linked.status != "ok":
                problems.append(f"{link}: {linked.error}")
                continue
            try:
                parsed = parse_document(linked.body, url=linked.final_url, name="",
                                        content_type=linked.content_type)
            except RejectedInput as exc:
                problems.append(f"{link}: {exc}")
                continue
            return Probe(url=link, title=parsed.title, kind=parsed.batch.kind, items=parsed.items)
        raise ProbeError(f"{url}: the page links feeds but none works ({'; '.join(problems)})")
