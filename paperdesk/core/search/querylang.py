"""The paper query language: a lenient tokenizer and parser, free of Whoosh.

    words (AND)  "phrases"  -word  a OR b  (groups)  field:word  field:"a phrase"  word*
    fields: title abstract note tag org author source/digest id fulltext/pdf (a PDF's text) cat (cs.CL, cs.*)
    filters: is:starred|archived|inbox|updated  has:note|highlight|tag|pdf  upvotes:>50 upvotes:10..100
             date:2025-08  date:>=2025-01-01  date:>today-7d  date:2025-01..2025-03
    sort:relevance|upvotes|date|interest   (interest: the ranker's order, core/rank)

Nothing here raises on user input: every problem becomes a message in `ParsedQuery.problems`
and the rest of the query is read as well as possible.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

TEXT_FIELDS = {
    "title": "title", "abstract": "abstract", "note": "note", "notes": "note",
    "tag": "tags", "tags": "tags", "org": "org", "organization": "org", "organisation": "org",
    "author": "author", "authors": "author", "source": "source", "digest": "source", "id": "id",
    "fulltext": "fulltext", "pdf": "fulltext", "cat": "categories", "category": "categories",
}
FILTER_FIELDS = ("is", "has", "upvotes", "date", "sort")
FLAGS = {"is": ("starred", "unstarred", "archived", "inbox", "updated"),
         "has": ("note", "highlight", "tag", "pdf")}
SORTS = ("relevance", "upvotes", "date", "interest")


# -- syntax tree ----------------------------------------------------------------------------------
@dataclass
class Word:
    text: str
    field: str | None = None      # None: the default fields
    prefix: bool = False          # the word is being typed (or ends with *)
    span: tuple[int, int] = (0, 0)  # where the word is in the query text (for "did you mean")


@dataclass
class Phrase:
    text: str
    field: str | None = None


@dataclass
class Flag:
    name: str  # starred, unstarred, archived, inbox, note, highlight, tag


@dataclass
class Range:
    field: str  # upvotes | published (published as yyyymmdd)
    low: int | None
    high: int | None  # both inclusive


@dataclass
class Not:
    child: Node


@dataclass
class And:
    children: list[Node]


@dataclass
class Or:
    children: list[Node]


Node = Word | Phrase | Flag | Range | Not | And | Or


@dataclass
class ParsedQuery:
    root: Node | None
    sort: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        return any(isinstance(n, Word | Phrase) for n in positive_nodes(self.root))


def positive_nodes(node: Node | None) -> list[Node]:
    """The leaves a matching paper must (or may) contain: everything not under a negation."""
    if node is None or isinstance(node, Not):
        return []
    if isinstance(node, And | Or):
        return [leaf for child in node.children for leaf in positive_nodes(child)]
    return [node]


# -- tokens ---------------------------------------------------------------------------------------
@dataclass
class _Tok:
    kind: str  # word | phrase | lparen | rparen | or | neg
    text: str = ""
    field: str | None = None
    start: int = 0
    end: int = 0


_FIELD_RE = re.compile(r"^([A-Za-z]+):(.*)$", re.S)


def _tokenize(text: str, problems: list[str]) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "(":
            toks.append(_Tok("lparen", start=i, end=i + 1))
            i += 1
        elif c == ")":
            toks.append(_Tok("rparen", start=i, end=i + 1))
            i += 1
        elif c == '"':
            i = _read_phrase(text, i, None, toks, problems)
        elif c == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in "()-":
            toks.append(_Tok("neg", start=i, end=i + 1))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"':
                j += 1
            run = text[i:j]
            match = _FIELD_RE.match(run)
            if match and j < n and text[j] == '"' and match.group(2) == "":
                i = _read_phrase(text, j, match.group(1).lower(), toks, problems, start=i)
                continue
            if run == "OR" or run == "|":
                toks.append(_Tok("or", start=i, end=j))
            elif run == "NOT":
                toks.append(_Tok("neg", start=i, end=j))
            elif run != "AND":
                if match:
                    toks.append(_Tok("word", match.group(2), match.group(1).lower(), i, j))
                else:
                    toks.append(_Tok("word", run, None, i, j))
            i = j
    return toks


def _read_phrase(text: str, i: int, fieldname: str | None, toks: list[_Tok], problems: list[str],
                 start: int | None = None) -> int:
    close = text.find('"', i + 1)
    if close < 0:
        problems.append("unbalanced quote: the phrase runs to the end of the query")
        close = len(text)
    toks.append(_Tok("phrase", text[i + 1:close], fieldname, i if start is None else start, close + 1))
    return close + 1


# -- parser ---------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str, toks: list[_Tok], problems: list[str], today: dt.date,
                 typing: bool):
        self.text, self.toks, self.problems, self.today = text, toks, problems, today
        self.pos = 0
        self.sort: str | None = None
        # The last word is being typed when nothing (not even a space) follows it.
        self.typing_end = len(text) if typing and text and not text[-1].isspace() else -1

    def peek(self) -> str | None:
        return self.toks[self.pos].kind if self.pos < len(self.toks) else None

    def parse(self) -> Node | None:
        parts: list[Node] = []
        while self.pos < len(self.toks):
            node = self.parse_or()
            if node is not None:
                parts.append(node)
            if self.peek() == "rparen":
                self.problems.append("unbalanced parenthesis: an extra ) was ignored")
                self.pos += 1
        return _and(parts)

    def parse_or(self) -> Node | None:
        while self.peek() == "or":  # a leading OR joins nothing
            self.problems.append("OR needs a word on each side")
            self.pos += 1
        items = [self.parse_and()]
        while self.peek() == "or":
            self.pos += 1
            if self.peek() in (None, "rparen", "or"):
                self.problems.append("OR needs a word on each side")
                continue
            items.append(self.parse_and())
        kept = [i for i in items if i is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Or(kept)

    def parse_and(self) -> Node | None:
        items: list[Node] = []
        while self.peek() not in (None, "rparen", "or"):
            node = self.parse_unary()
            if node is not None:
                items.append(node)
        return _and(items)

    def parse_unary(self) -> Node | None:
        negate = False
        while self.peek() == "neg":
            negate = not negate
            self.pos += 1
        if self.peek() in (None, "rparen", "or"):
            if negate:
                self.problems.append("a - or NOT must be followed by a word")
            return None
        node = self.parse_atom(negated=negate)
        if node is None:
            return None
        return Not(node) if negate else node

    def parse_atom(self, negated: bool) -> Node | None:
        tok = self.toks[self.pos]
        self.pos += 1
        if tok.kind == "lparen":
            node = self.parse_or()
            if self.peek() == "rparen":
                self.pos += 1
            else:
                self.problems.append("unbalanced parenthesis: a ( is never closed")
            return node
        if tok.kind == "phrase":
            return self.field_node(tok, phrase=True, negated=negated)
        return self.field_node(tok, phrase=False, negated=negated)

    def field_node(self, tok: _Tok, *, phrase: bool, negated: bool) -> Node | None:
        value = tok.text.strip()
        typing = tok.end == self.typing_end and not phrase
        name = tok.field
        if name is not None and name not in TEXT_FIELDS and name not in FILTER_FIELDS:
            self.problems.append(f"unknown field {name}: (searched for the words instead)")
            name = None
        if not value:
            if not typing and name is not None:
                self.problems.append(f"{name}: needs a value")
            return None
        if name in FILTER_FIELDS:
            if phrase:
                value = value.strip()
            return self.filter_node(name, value, tok)
        fieldname = TEXT_FIELDS[name] if name else None
        if phrase:
            return Phrase(value, fieldname)
        star = value.endswith("*") and len(value.rstrip("*")) > 0
        if star:
            value = value.rstrip("*")
        return Word(value, fieldname, prefix=star or (typing and not negated),
                    span=(tok.start + (len(tok.field) + 1 if tok.field else 0), tok.end))

    def filter_node(self, name: str, value: str, tok: _Tok) -> Node | None:
        raw = f"{name}:{value}"
        typing = tok.end == self.typing_end
        low = value.lower()
        if name == "sort":
            matches = [s for s in SORTS if s.startswith(low)] if typing else \
                [s for s in SORTS if s == low]
            if matches:
                self.sort = matches[0]
            else:
                self.problems.append(f"unknown sort {raw} (use sort:{'|'.join(SORTS)})")
            return None
        if name in FLAGS:
            options = FLAGS[name]
            matches = [o for o in options if o.startswith(low)] if typing else \
                [o for o in options if o == low or o.rstrip("s") == low.rstrip("s")]
            if matches:
                return Flag(matches[0])
            self.problems.append(f"unknown filter {raw} (use {name}:{'|'.join(options)})")
            return None
        parsed = _parse_range(value, name == "date", self.today)
        if parsed is None:
            if not (typing and _UNFINISHED.fullmatch(value)):
                what = "a date like 2025-08, >=2025-01-01 or >today-7d" if name == "date" else \
                    "a number or range like >50 or 10..100"
                self.problems.append(f"cannot read {raw}: expected {what}")
            return None
        return Range("published" if name == "date" else "upvotes", *parsed)


def _and(items: list[Node]) -> Node | None:
    if not items:
        return None
    return items[0] if len(items) == 1 else And(items)


# -- ranges ---------------------------------------------------------------------------------------
# What a date or number being typed may look like before it is complete: no message yet.
_UNFINISHED = re.compile(r"[<>=]*\s*(?:[\d.\-]*|t|to|tod|toda|today[+-]?\d*)", re.I)
_RELATIVE = re.compile(r"^today(?:([+-])(\d+)([dwmy]))?$")


def _date_bounds(text: str, today: dt.date) -> tuple[int, int] | None:
    """The first and last day (as yyyymmdd) a date value stands for: a day, a month or a year."""
    text = text.strip().lower()
    rel = _RELATIVE.match(text)
    if rel:
        day = today
        if rel.group(1):
            amount = int(rel.group(2)) * (1 if rel.group(1) == "+" else -1)
            unit = rel.group(3)
            if unit in "dw":
                day = today + dt.timedelta(days=amount * (7 if unit == "w" else 1))
            else:
                months = amount * (12 if unit == "y" else 1)
                year, month = divmod(today.year * 12 + today.month - 1 + months, 12)
                month += 1
                day = dt.date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
        value = int(day.strftime("%Y%m%d"))
        return value, value
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text)
    if not match:
        return None
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day_ = int(match.group(3)) if match.group(3) else None
    try:
        if month is None:
            return year * 10000 + 101, year * 10000 + 1231
        last = calendar.monthrange(year, month)[1]
        if day_ is None:
            return year * 10000 + month * 100 + 1, year * 10000 + month * 100 + last
        dt.date(year, month, day_)
    except ValueError:
        return None
    value = year * 10000 + month * 100 + day_
    return value, value


def _parse_range(value: str, is_date: bool, today: dt.date) -> tuple[int | None, int | None] | None:
    """`>N`, `>=N`, `<N`, `<=N`, `N`, `A..B` (open ends allowed) as inclusive (low, high)."""
    def bounds(text: str) -> tuple[int, int] | None:
        if is_date:
            return _date_bounds(text, today)
        text = text.strip()
        if not re.fullmatch(r"-?\d+", text):
            return None
        return int(text), int(text)

    value = value.strip()
    if ".." in value:
        left, right = value.split("..", 1)
        lo = bounds(left) if left.strip() else (None, None)
        hi = bounds(right) if right.strip() else (None, None)
        if lo is None or hi is None or (lo[0] is None and hi[1] is None):
            return None
        return lo[0], hi[1]
    match = re.fullmatch(r"(>=|<=|>|<|=)?\s*(.+)", value)
    if not match:
        return None
    op, rest = match.group(1) or "=", match.group(2)
    b = bounds(rest)
    if b is None:
        return None
    first, last = b
    if op == ">":
        return last + 1 if not is_date else _next_day(last), None
    if op == ">=":
        return first, None
    if op == "<":
        return None, first - 1 if not is_date else _prev_day(first)
    if op == "<=":
        return None, last
    return first, last


def _as_date(value: int) -> dt.date:
    return dt.date(value // 10000, value // 100 % 100, value % 100)


def _next_day(value: int) -> int:
    return int((_as_date(value) + dt.timedelta(days=1)).strftime("%Y%m%d"))


def _prev_day(value: int) -> int:
    return int((_as_date(value) - dt.timedelta(days=1)).strftime("%Y%m%d"))


def parse(text: str, *, today: dt.date | None = None, typing: bool = True) -> ParsedQuery:
    """Read a query; `typing` means the last word may be unfinished (search as you type)."""
    problems: list[str] = []
    toks = _tokenize(text or "", problems)
    parser = _Parser(text or "", toks, problems, today or dt.date.today(), typing)
    root = parser.parse()
    return ParsedQuery(root=root, sort=parser.sort, problems=list(dict.fromkeys(problems)))
