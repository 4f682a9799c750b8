"""Parse text saved from Hugging Face "Papers" pages (three known layouts, detected automatically).

1. "blocks": header, digest date, then blank-line separated title / abstract / optional metadata
   group (`• N authors` or an organisation line, a `·` line, a date that may end in upvotes).
2. "alternating": no blank lines; title and abstract lines alternate; the first title may be glued
   to `Subscribe`.
3. "plain": header and digest date, then title / abstract blocks without metadata.

A parse that cannot be right is refused with the line where it went wrong: a count out of range, an
abstract longer than any real one, or several titles and abstracts read as one abstract (one stray
blank line in an alternating digest did that: 2 "papers" with 170,000-character abstracts).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from paperdesk.core.limits import (
    MAX_ABSTRACT_CHARS,
    MAX_AUTHORS_COUNT,
    MAX_TITLE_CHARS,
    MAX_UPVOTES,
    capped,
    parse_count,
)
from paperdesk.core.records import IncomingPaper, RejectedInput, SourceBatch
from paperdesk.core.textfile import read_text

_HEADER_LINES = {"new", "subscribe", "daily papers", "byak and the research community"}
_HEADER_PREFIXES = ("get trending papers",)
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_DATE_RE = re.compile(
    r"^(?P<mon>[A-Za-z]{3})[a-z]*\.? (?P<day>\d{1,2})(?:, (?P<year>\d{4}))?(?:\s+(?P<upvotes>\d+))?$"
)
_AUTHORS_RE = re.compile(r"^[•*\-]?\s*(\d+)\s+authors?$")
_DOT = "·"
_GLUED_SUBSCRIBE = re.compile(r"^Subscribe(?=\S)")
_TITLE_LIKE_CHARS = 250  # real titles are shorter; real abstracts (600+) are longer than MAX_TITLE_CHARS


@dataclass
class _Date:
    month: int
    day: int
    year: int | None
    upvotes: int | None
    upvotes_text: str | None  # as written, to name it when it is out of range (upvotes is then None)


def parse_date_line(line: str) -> _Date | None:
    match = _DATE_RE.match(line.strip())
    if not match:
        return None
    month = _MONTHS.get(match["mon"].lower())
    day = int(match["day"])
    if not month or not 1 <= day <= 31:
        return None
    year = int(match["year"]) if match["year"] else None
    upvotes = parse_count(match["upvotes"], MAX_UPVOTES) if match["upvotes"] else None
    return _Date(month, day, year, upvotes, match["upvotes"])


def resolve_date(d: _Date, reference: dt.date) -> dt.date | None:
    """A date with a year as is; without one, the latest year that is not after `reference`."""
    if d.year is not None:
        try:
            return dt.date(d.year, d.month, d.day)
        except ValueError:
            return None
    for year in range(reference.year, reference.year - 9, -1):
        try:
            candidate = dt.date(year, d.month, d.day)
        except ValueError:
            continue  # Feb 29 in a non-leap year
        if candidate <= reference:
            return candidate
    return None


def _is_header(line: str) -> bool:
    low = line.casefold()
    return low in _HEADER_LINES or low.startswith(_HEADER_PREFIXES)


def _is_meta_line(line: str) -> bool:
    return line == _DOT or bool(_AUTHORS_RE.match(line)) or parse_date_line(line) is not None


class _Parser:
    def __init__(self, lines: list[str], today: dt.date):
        self.lines = lines
        self.today = today
        self.digest_date: dt.date | None = None
        self.saw_header = False
        self.papers: list[IncomingPaper] = []
        self.meta_groups = 0

    # -- header ---------------------------------------------------------------------------
    def skip_header(self) -> int:
        """Index of the first body line; records the digest date and glued titles."""
        i = 0
        while i < len(self.lines):
            line = self.lines[i]
            if not line or _is_header(line):
                self.saw_header = self.saw_header or bool(line)
                i += 1
                continue
            glued = _GLUED_SUBSCRIBE.match(line)
            if glued:
                self.saw_header = True
                self.lines[i] = line[glued.end():]
                return i
            date = parse_date_line(line)
            if date and self.digest_date is None and date.upvotes_text is None:
                self.digest_date = resolve_date(date, self.today)
                i += 1
                continue
            return i
        return i

    # -- body -----------------------------------------------------------------------------
    def parse(self) -> str:
        start = self.skip_header()
        body = self.lines[start:]
        while body and not body[-1]:
            body.pop()
        if not body:
            raise RejectedInput("no papers found: not a Hugging Face Papers digest")
        if "" in body:
            self._parse_blocks(body, start)
            return "blocks" if self.meta_groups else "plain"
        self._parse_alternating(body, start)
        return "alternating"

    def _paragraphs(self, body: list[str], offset: int) -> list[tuple[int, list[str]]]:
        paragraphs: list[tuple[int, list[str]]] = []
        current: list[str] = []
        first = 0
        for n, line in enumerate(body):
            if line:
                if not current:
                    first = offset + n + 1
                current.append(line)
            elif current:
                paragraphs.append((first, current))
                current = []
        if current:
            paragraphs.append((first, current))
        return paragraphs

    def _parse_blocks(self, body: list[str], offset: int) -> None:
        pending_title: tuple[int, str] | None = None
        for lineno, para in self._paragraphs(body, offset):
            if self._is_meta_paragraph(para):
                if pending_title is not None or not self.papers:
                    raise RejectedInput(f"line {lineno}: paper details without a title and abstract")
                self._apply_meta(self.papers[-1], para, lineno)
                continue
            if pending_title is None:
                if len(para) >= 2:  # title and abstract without a blank line between them
                    self._check_abstract(lineno + 1, para[1:], lineno)
                    self._add(lineno, para[0], "\n".join(para[1:]))
                else:
                    pending_title = (lineno, para[0])
            else:
                self._check_abstract(lineno, para, lineno)
                self._add(pending_title[0], pending_title[1], "\n".join(para))
                pending_title = None
        if pending_title is not None:
            raise RejectedInput(
                f"line {pending_title[0]}: a title without an abstract; the file looks truncated"
            )

    def _parse_alternating(self, body: list[str], offset: int) -> None:
        i = 0
        while i < len(body):
            title = body[i]
            if i + 1 >= len(body):
                raise RejectedInput(
                    f"line {offset + i + 1}: a title without an abstract; the file looks truncated"
                )
            self._check_abstract(offset + i + 2, [body[i + 1]], offset + i + 2)
            self._add(offset + i + 1, title, body[i + 1])
            i += 2
            meta: list[str] = []
            meta_line = offset + i + 1
            while i < len(body) and _is_meta_line(body[i]):
                meta.append(body[i])
                i += 1
            if meta:
                self._apply_meta(self.papers[-1], meta, meta_line)

    @staticmethod
    def _is_meta_paragraph(para: list[str]) -> bool:
        if _DOT in para:
            return True
        return all(_is_meta_line(line) for line in para) and len(para) <= 3

    def _apply_meta(self, paper: IncomingPaper, para: list[str], lineno: int) -> None:
        """`lineno`: the line of para[0]."""
        self.meta_groups += 1
        date_seen = False
        for n, line in enumerate(para, lineno):
            if line == _DOT:
                continue
            authors = _AUTHORS_RE.match(line)
            date = parse_date_line(line)
            if authors:
                paper.authors_count = parse_count(authors.group(1), MAX_AUTHORS_COUNT)
                if not paper.authors_count:
                    raise RejectedInput(f"line {n}: {_shown(authors.group(1))} authors is not a "
                                        f"plausible count (1 to {MAX_AUTHORS_COUNT:,})")
            elif date:
                date_seen = True
                if date.upvotes_text is not None and date.upvotes is None:
                    raise RejectedInput(f"line {n}: {_shown(date.upvotes_text)} upvotes is not a "
                                        f"plausible count (0 to {MAX_UPVOTES:,})")
                resolved = resolve_date(date, self.digest_date or self.today)
                paper.published = resolved.isoformat() if resolved else None
                paper.upvotes = date.upvotes
            else:
                # "tencent Tencent": the organisation's handle, then its display name.
                handle, _, display = line.partition(" ")
                paper.organization = display.strip() or handle
        if _DOT in para and not date_seen:
            raise RejectedInput(f"line {lineno}: paper details end without a date; the file looks truncated")

    def _check_abstract(self, first: int, lines: list[str], para_start: int) -> None:
        """Refuse an abstract no real digest has: too long, or titles and abstracts in a row
        (an alternating digest read as blocks because of one stray blank line). `first`: the line
        of lines[0]; `para_start`: the first line of its paragraph."""
        chars = sum(len(line) for line in lines)
        alternating = any(
            len(a) > MAX_TITLE_CHARS and len(t) <= _TITLE_LIKE_CHARS and len(b) > MAX_TITLE_CHARS
            for a, t, b in zip(lines, lines[1:], lines[2:], strict=False)
        )
        if not alternating and chars <= MAX_ABSTRACT_CHARS:
            return
        last = first + len(lines) - 1
        why = ("titles and abstracts in a row" if alternating
               else f"real abstracts are under {MAX_ABSTRACT_CHARS:,}")
        where = f"line {first}" if first == last else f"lines {first}-{last}"
        text = f"{where} read as one abstract of {chars:,} characters ({why})"
        # Titles and abstracts with no blank line between them: an alternating digest, and the blank
        # line that merged them is most likely stray (a long abstract on its own says nothing).
        blank = self._stray_blank(para_start, last) if alternating or para_start < first else None
        if blank is not None:
            text = f"line {blank}: a stray blank line? {text[0].upper()}{text[1:]}"
        raise RejectedInput(f"{text}; the layout looks broken, nothing imported")

    def _stray_blank(self, start: int, last: int) -> int | None:
        """The blank line that most likely merged the paragraph `start`..`last` (1-based lines):
        the one right after it if more text follows, else the one right before it."""
        def blank(n: int) -> bool:
            return 1 <= n <= len(self.lines) and not self.lines[n - 1]

        if blank(last + 1) and any(self.lines[last + 1:]):
            return last + 1
        return start - 1 if blank(start - 1) else None

    def _add(self, lineno: int, title: str, abstract: str) -> None:
        if len(title) > MAX_TITLE_CHARS:
            raise RejectedInput(
                f"line {lineno}: expected a paper title, found {len(title)} characters of text; "
                "not a Hugging Face Papers digest"
            )
        self.papers.append(IncomingPaper(title=title.strip(), abstract=abstract.strip()))


def _shown(digits: str) -> str:
    return capped(digits, 24)


def _looks_like_prose(papers: list[IncomingPaper]) -> bool:
    """Titles are short and rarely end in a full stop; paragraphs of prose are the opposite."""
    sentence_titles = sum(1 for p in papers if p.title.endswith(".") or len(p.title) > 250)
    return sentence_titles * 2 > len(papers)


def parse_digest_text(text: str, *, today: dt.date | None = None) -> tuple[str, dt.date | None,
                                                                             list[IncomingPaper]]:
    """Return (layout, digest date, papers) or raise RejectedInput."""
    today = today or dt.date.today()
    lines = [line.strip() for line in re.split(r"\r\n|\r|\n", text.lstrip("\ufeff"))]
    parser = _Parser(lines, today)
    layout = parser.parse()
    papers = parser.papers
    if not parser.saw_header and not parser.meta_groups:
        raise RejectedInput("no Hugging Face Papers header or paper details found: not a digest")
    if not papers or _looks_like_prose(papers):
        raise RejectedInput("no papers found: not a Hugging Face Papers digest")
    return layout, parser.digest_date, papers


def read_digest(path: Path, *, today: dt.date | None = None) -> SourceBatch:
    """Read and parse one digest file into a SourceBatch, or raise RejectedInput."""
    text, content_hash = read_text(path)
    layout, digest_date, papers = parse_digest_text(text, today=today)
    return SourceBatch(
        kind="digest",
        name=path.name,
        origin=str(path.resolve()),
        date=digest_date.isoformat() if digest_date else None,
        content_hash=content_hash,
        papers=papers,
        layout=layout,
    )
