"""What text and numbers from outside may be: lengths, ranges, characters.

Every source (digests, feeds, HF JSON, arXiv) hands the store a `SourceBatch`; `store.merge_batch`
passes it through `clean_batch` first, so nothing unbounded, out of range or unprintable reaches
the library whichever parser it came from. Parsers still check their own numbers where they read
them (a digest with an absurd count is refused with its line), this is the floor under all of them.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from paperdesk.core.records import IncomingPaper, SourceBatch

MAX_TITLE_CHARS = 400  # real titles are < 250; a digest "title" longer than this is refused
MAX_ABSTRACT_CHARS = 10_000  # arXiv caps abstracts at 1,920; feeds' own summaries run longer
MAX_NAME_CHARS = 200  # one author, an organisation
MAX_AUTHORS = 2_000  # names kept; the count says how many there were
MAX_URL_CHARS = 2_048
MAX_SOURCE_NAME_CHARS = 300
MAX_TAG_CHARS = 100  # a tag the user gives (Library.tag, rules); names a file in an export
MAX_UPVOTES = 1_000_000  # the most upvoted HF paper has a few thousand
MAX_AUTHORS_COUNT = 100_000  # the largest collaborations sign ~5,000
MAX_VERSION_CHARS = 8  # an arXiv version: "v" and up to 7 digits
MAX_NUMBER_DIGITS = 12  # longer digit strings are never converted (int() of 5,000 digits raises)
ELLIPSIS = "…"

# Terminal escape sequences (CSI `\x1b[31m`, OSC `\x1b]0;title\x07`, two-character ESC x), then
# every C0 control but tab and newline, DEL and C1. Removed as a whole, not just their ESC.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[@-Z\\-_]"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # also \r: line ends become \n first
_LINE_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x85\u2028\u2029]")


def printable(text: str, *, single_line: bool = False) -> str:
    """`text` without escape sequences and control characters; tab and newline kept unless
    `single_line`, where every line break or tab becomes a space."""
    if text.isprintable():  # nearly every title and abstract: one quick scan (a regex took 10x)
        return text
    if single_line:
        text = _LINE_BREAKS.sub(" ", text)
    elif "\r" in text or "\x85" in text:  # CR LF, CR and NEL end lines too
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x85", "\n")
    if "\x1b" in text or "\x9b" in text or "\x9d" in text:
        text = _ESCAPES.sub("", text)
    return _CONTROLS.sub("", text)


def capped(text: str, limit: int) -> str:
    """At most `limit` characters; a cut text ends in an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def clean_line(value: object, limit: int) -> str | None:
    """A one-line text field (title, name, organisation): printable, capped, None if empty."""
    if not isinstance(value, str):
        return None
    text = capped(printable(value, single_line=True).strip(), limit)
    return text or None


def number_in_range(value: object, low: int, high: int) -> int | None:
    """`value` if it is an int (not a bool) within [low, high], else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if low <= value <= high else None


def parse_count(digits: str, high: int) -> int | None:
    """A count read from text as digits: None when it has absurdly many digits or is above `high`."""
    if not digits.isdigit() or len(digits) > MAX_NUMBER_DIGITS:
        return None
    return number_in_range(int(digits), 0, high)


def clean_url(value: object) -> str | None:
    """An absolute http(s) URL with a host, or None: no `//host`, `\\\\host\\share`, `file:`."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or len(url) > MAX_URL_CHARS or _CONTROLS.search(url) or _LINE_BREAKS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "\\" in url:
        return None
    return url


def clean_day(value: object) -> str | None:
    """A YYYY-MM-DD date, or None."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def clean_paper(paper: IncomingPaper) -> IncomingPaper:
    """The paper with every field printable, within its length and in range (changed in place)."""
    paper.title = clean_line(paper.title, MAX_TITLE_CHARS) or ""
    abstract = printable(paper.abstract if isinstance(paper.abstract, str) else "").strip()
    paper.abstract = capped(abstract, MAX_ABSTRACT_CHARS)
    names = [clean_line(a, MAX_NAME_CHARS) for a in paper.authors or []]
    names = [n for n in names if n]
    count = number_in_range(paper.authors_count, 1, MAX_AUTHORS_COUNT)
    if len(names) > MAX_AUTHORS:
        count = max(count or 0, min(len(names), MAX_AUTHORS_COUNT))
        names = names[:MAX_AUTHORS]
    paper.authors = names
    paper.authors_count = count
    paper.organization = clean_line(paper.organization, MAX_NAME_CHARS)
    paper.published = clean_day(paper.published)
    paper.upvotes = number_in_range(paper.upvotes, 0, MAX_UPVOTES)
    paper.arxiv_id = clean_line(paper.arxiv_id, 64)
    paper.url = clean_url(paper.url)
    paper.categories = clean_line(paper.categories, 256)
    paper.arxiv_version = clean_line(paper.arxiv_version, MAX_VERSION_CHARS)
    return paper


def clean_batch(batch: SourceBatch) -> SourceBatch:
    """The batch with its own fields and every paper cleaned (changed in place)."""
    batch.name = clean_line(batch.name, MAX_SOURCE_NAME_CHARS) or batch.kind
    batch.origin = capped(printable(batch.origin, single_line=True), MAX_URL_CHARS * 2)
    batch.date = clean_day(batch.date)
    for paper in batch.papers:
        clean_paper(paper)
    return batch
