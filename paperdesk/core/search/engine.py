"""Running a query: Whoosh for matching and ranking, SQLite for the text of snippets."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache

from paperdesk.core import abstract_text
from paperdesk.core.idlist import IDS, id_array, joined_ids, split_ids
from paperdesk.core.orders import ORDERS  # the lists' orders, as the desk and the CLI sort them
from paperdesk.core.search import querylang as ql
from paperdesk.core.search.compiler import Compiler
from paperdesk.core.search.evaluator import IndexView, Matches, top
from paperdesk.core.search.index import SearchIndex
from paperdesk.core.search.results import SearchHit, SearchResult
from paperdesk.core.search.sqlfilter import to_sql
from paperdesk.core.view_filter import ViewFilter

SNIPPET_CHARS = 200
EAGER_TEXTS = 100  # hits whose texts are read with the search (for snippets); others when looked up
LAZY_BATCH = 200
_WORD = re.compile(r"[^\W_]+")
# sort:interest: (every match's id, how many to keep) -> (the kept ids best first, their scores,
# how the order was made). The library's ranker, handed in by `lib.search`.
Rank = Callable[[list[str], int | None], tuple[list[str], list[float], str]]


@lru_cache(maxsize=20000)
def _stem(word: str) -> str:
    from whoosh.lang.porter import stem

    return stem(word)


def run_search(index: SearchIndex, conn: sqlite3.Connection, text: str, *, limit: int | None,
               today: dt.date, typing: bool = True, rank: Rank | None = None,
               within: ViewFilter | None = None) -> SearchResult:
    """The papers matching `text`, best (or by its `sort:`) first; with `within`, only those in that
    desk view: the best `limit` of the view and its count, not the library's best then filtered."""
    parsed = ql.parse(text, today=today, typing=typing)
    sort = parsed.sort or ("relevance" if parsed.has_text else "date")
    if sort == "relevance" and not parsed.has_text:
        sort = "date"  # nothing to rank by
    if sort == "interest":
        return _by_interest(index, conn, text, parsed, limit, today, rank, within)
    return _run(index, conn, text, parsed, limit, sort, today, within)


def _by_interest(index: SearchIndex, conn: sqlite3.Connection, text: str, parsed: ql.ParsedQuery,
                 limit: int | None, today: dt.date, rank: Rank | None,
                 within: ViewFilter | None) -> SearchResult:
    """Every match's id, newest first (ties keep that order), ordered by `rank` (no ranker: by
    date); hits are made only for the papers kept (100k hits cost ~80 ms)."""
    where = ("1", []) if parsed.root is None else to_sql(parsed.root)
    marker, suggestion = None, None
    if where is None:
        view = index.view()
        query = Compiler(view.searcher, index.decided(view)).compile_root(parsed.root)
        if query is None:  # only stop words: they match everything
            where = ("1", [])
        else:
            matched = _in_view(index, view, view.evaluate(query), within)
            ids = [view.paper_id(d) for d in _ranked(view, matched, None, "date")]
            marker = Marker.from_query(parsed)
            if not ids and parsed.has_text:
                suggestion = _suggest(view, text, parsed, today, index.decided(view))
    if where is not None:  # filters only: SQLite lists them (no snippets: 100k abstracts cost ~1 s)
        where = _and_sql(conn, where, within)
        sql = f"SELECT p.id FROM papers p WHERE {where[0]} ORDER BY {ORDERS['date']}"
        ids = split_ids(conn.execute(joined_ids(sql), where[1]).fetchone()[0])
    if rank is None:
        kept, scores, ranking = ids[:limit], [0.0] * len(ids[:limit]), None
    else:
        kept, scores, ranking = rank(ids, limit)
    kept, scores, total = _without_gone(conn, kept, scores, len(ids))
    snippets: Mapping[str, str] = {}
    if marker is None:
        hits = [SearchHit(pid, score) for pid, score in zip(kept, scores, strict=True)]
    else:
        snippets = Snippets(conn, kept, marker)
        hits = [_Hit(pid, score, snippets) for pid, score in zip(kept, scores, strict=True)]
    return SearchResult(hits=hits, total=total, problems=parsed.problems, suggestion=suggestion,
                        sort="interest", snippets=snippets, ranking=ranking)


def _run(index: SearchIndex, conn: sqlite3.Connection, text: str, parsed: ql.ParsedQuery,
         limit: int | None, sort: str, today: dt.date, within: ViewFilter | None) -> SearchResult:
    if parsed.root is None:
        return _sql_papers(conn, limit, sort, parsed.problems, _and_sql(conn, ("1", []), within))
    where = to_sql(parsed.root)
    if where is not None:  # filters only
        total = None if within else _index_total(index, parsed.root, where)
        return _sql_papers(conn, limit, sort, parsed.problems, _and_sql(conn, where, within), total)
    view = index.view()
    searcher = view.searcher
    query = Compiler(searcher, index.decided(view)).compile_root(parsed.root)
    if query is None:  # only stop words: they match everything
        return _sql_papers(conn, limit, sort, parsed.problems, _and_sql(conn, ("1", []), within))
    matched = _in_view(index, view, view.evaluate(query), within)
    total = len(matched)
    docnums = _ranked(view, matched, limit, sort)
    ids = [view.paper_id(d) for d in docnums]
    # Only relevance has a meaningful score (read in one step: per hit a lookup was ~5 µs).
    scores = matched.scores_of(docnums).tolist() if sort == "relevance" and docnums else [0.0] * len(docnums)
    ids, scores, total = _without_gone(conn, ids, scores, total)
    snippets = Snippets(conn, ids, Marker.from_query(parsed))
    hits: list[SearchHit] = [_Hit(pid, round(float(score), 4), snippets)
                             for pid, score in zip(ids, scores, strict=True)]
    suggestion = None
    if total == 0 and parsed.has_text:
        suggestion = _suggest(view, text, parsed, today, index.decided(view))
    return SearchResult(hits=hits, total=total, problems=parsed.problems, suggestion=suggestion,
                        sort=sort, snippets=snippets)


def _without_gone(conn: sqlite3.Connection, ids: list[str], scores: list[float],
                  total: int) -> tuple[list[str], list[float], int]:
    """The hits whose paper is still in the library, their scores and the total less the others:
    papers deleted (an undone import) stay in the index until it takes their removal in."""
    if not ids:
        return ids, scores, total
    there = {r[0] for r in conn.execute(f"SELECT p.id FROM papers p WHERE p.id IN {IDS}", (id_array(ids),))}
    if len(there) == len(set(ids)):
        return ids, scores, total
    kept = [i for i, pid in enumerate(ids) if pid in there]
    return [ids[i] for i in kept], [scores[i] for i in kept], total - (len(ids) - len(kept))


def _in_view(index: SearchIndex, view: IndexView, matched: Matches, within: ViewFilter | None) -> Matches:
    """`matched` kept to the desk view `within` (all of it when None or empty)."""
    return matched.restricted(index.within(view, within)) if within else matched


def _and_sql(conn: sqlite3.Connection, where: tuple[str, list],
             within: ViewFilter | None) -> tuple[str, list]:
    """An SQL condition on `papers p`, and the desk view `within`'s conditions too."""
    extra, params = within.sql_for(conn) if within else ("", [])
    return (f"({where[0]}) AND {extra}", [*where[1], *params]) if extra else where


def _ranked(view: IndexView, matched: Matches, limit: int | None, sort: str) -> list[int]:
    """The docnums to show: best score first, or by upvotes/date (missing values last)."""
    if sort == "relevance":
        return top(matched, limit)
    keys = [view.column("upvotes"), view.column("published")]
    return top(matched, limit, keys if sort == "upvotes" else keys[::-1])


def _index_total(index: SearchIndex, node: ql.Node, where: tuple[str, list]) -> int | None:
    """How many papers match a filter-only query, from the index when SQLite has no index to count
    them with (upvotes: a scan of every row, ~100 ms at 100k) and the index is up to date."""
    if "p.upvotes" not in where[0] or not SearchIndex.exists(index.dir.parent) or index.pending():
        return None
    view = index.view()
    query = Compiler(view.searcher, index.decided(view)).compile_root(node)
    return None if query is None else len(view.evaluate(query))


def _sql_papers(conn: sqlite3.Connection, limit: int | None, sort: str, problems: list[str],
                where: tuple[str, list] = ("1", []), total: int | None = None) -> SearchResult:
    """All papers, or those matching a filter-only query, straight from SQLite (with the start of
    each abstract as its snippet)."""
    sort = sort if sort in ORDERS else "date"
    sql = (f"SELECT p.id, substr(abstract_text(p.abstract), 1, {SNIPPET_CHARS * 2}) FROM papers p "
           f"WHERE {where[0]} "
           f"ORDER BY {ORDERS[sort]}")
    params = list(where[1])
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    rows = conn.execute(sql, params).fetchall()
    if total is None:
        total = conn.execute(f"SELECT count(*) FROM papers p WHERE {where[0]}", where[1]).fetchone()[0]
    made = {pid: _plain(abstract) for pid, abstract in rows if abstract}
    hits = [SearchHit(id=pid, score=0.0, snippet=made.get(pid, "")) for pid, _ in rows]
    return SearchResult(hits=hits, total=total, problems=problems, suggestion=None, sort=sort,
                        snippets=made)


# -- snippets -------------------------------------------------------------------------------------
class Marker:
    """Recognises the query's words in text: by stem for whole words, by start for prefixes."""

    def __init__(self, stems: set[str], prefixes: set[str]):
        self.stems = {s for s in stems if s}
        self.prefixes = tuple(p for p in prefixes if p)
        # Porter changes at most the last two letters of a word's start (happy -> happi, hoping ->
        # hope), so a stem minus two letters starts every word that has it: few false candidates.
        starts = sorted({s[:max(3, len(s) - 2)] for s in self.stems} | set(self.prefixes))
        alternatives = "|".join(map(re.escape, starts))
        # Literal starts without \b let the regex engine skip quickly through lowercased text;
        # the word boundary is checked by hand. Texts whose length changes when lowercased
        # (rare non-ASCII letters) use the case-blind pattern.
        self.pattern = re.compile(f"(?:{alternatives})\\w*") if starts else None
        self.caseless = re.compile(rf"\b(?:{alternatives})\w*", re.I) if starts else None

    @classmethod
    def from_query(cls, parsed: ql.ParsedQuery) -> Marker:
        stems: set[str] = set()
        prefixes: set[str] = set()
        for node in ql.positive_nodes(parsed.root):
            if not isinstance(node, ql.Word | ql.Phrase) or node.field in ("id", "tags", "source"):
                continue
            words = [w.lower() for w in _WORD.findall(node.text)]
            if isinstance(node, ql.Word) and node.prefix and words:
                prefixes.add(words.pop())
            stems.update(_stem(w) for w in words)
        return cls(stems, prefixes)

    def spans(self, text: str, start: int = 0, end: int | None = None,
              first_only: bool = False) -> list[tuple[int, int]]:
        if self.pattern is None or self.caseless is None:
            return []
        low = text.lower()
        end = len(text) if end is None else end
        if len(low) == len(text):
            matches = self.pattern.finditer(low, start, end)
        else:
            low, matches = text, self.caseless.finditer(text, start, end)
        found = []
        for m in matches:
            s = m.start()
            if s > 0 and (low[s - 1].isalnum() or low[s - 1] == "_"):
                continue  # inside a word
            word = m.group(0).lower()
            if word.startswith(self.prefixes) or _stem(word) in self.stems:
                found.append((s, m.end()))
                if first_only:
                    break
        return found


def _plain(text: str) -> str:
    text = " ".join(text[:SNIPPET_CHARS * 2].split())  # the start is enough
    if len(text) > SNIPPET_CHARS:
        cut = text.rfind(" ", 0, SNIPPET_CHARS)
        text = text[:cut if cut > SNIPPET_CHARS // 2 else SNIPPET_CHARS] + "…"
    return html.escape(text, quote=True)


def snippet(text: str, marker: Marker) -> str | None:
    """The window of `text` around the first matched word, matched words in <b>; None if none."""
    if marker.pattern is None or not text:
        return None
    spans = marker.spans(text, first_only=True)
    if not spans:
        return None
    # Only the window is normalised (whitespace runs become one space): abstracts are long.
    first = spans[0][0]
    start = 0 if first < 60 else text.rfind(" ", 0, first - 50) + 1
    stop = first + SNIPPET_CHARS * 2
    window = " ".join(text[start:stop].split())
    shown = marker.spans(window, first_only=True)
    first_shown = shown[0][0] if shown else 0
    end = min(len(window), SNIPPET_CHARS)
    clipped_end = end < len(window) or stop < len(text.rstrip())
    if end < len(window):
        space = window.rfind(" ", 0, end)
        end = space if space > first_shown else end
    window = window[:end]
    out = ["…" if start > 0 else ""]
    pos = 0
    for s, e in marker.spans(window):
        out += [html.escape(window[pos:s], quote=True), "<b>", html.escape(window[s:e], quote=True), "</b>"]
        pos = e
    out.append(html.escape(window[pos:], quote=True))
    if clipped_end:
        out.append("…")
    return "".join(out)


def _texts(conn: sqlite3.Connection, ids: list[str]) -> dict[str, tuple[str, str, str]]:
    """Abstract, note and title of each paper, in the order of `ids`."""
    texts: dict[str, tuple[str, str, str]] = dict.fromkeys(ids, ("", "", ""))
    for pid, abstract, title, note in conn.execute(
            f"SELECT p.id, p.abstract, p.title, n.body FROM papers p LEFT JOIN notes n "
            f"ON n.paper_id = p.id WHERE p.id IN {IDS}", (id_array(ids),)):
        texts[pid] = (abstract_text.decode(abstract), note or "", title or "")
    return texts


def make_snippet(texts: tuple[str, str, str], marker: Marker,
                 fulltext: Callable[[], tuple[str, list[int]] | None] | None = None) -> str:
    """Around the first matched word of the abstract or note; else of the PDF's text (read only
    then, through `fulltext`), naming its page; else the abstract's start."""
    abstract, note, title = texts
    found = snippet(abstract, marker) or snippet(note, marker)
    if found is None and fulltext is not None:
        found = page_snippet(fulltext(), marker)
    return found or (_plain(abstract) if abstract else snippet(title, marker) or html.escape(title))


def page_snippet(pdf: tuple[str, list[int]] | None, marker: Marker) -> str | None:
    """"p. 3: …<b>word</b>…" from a PDF's text and where its pages start."""
    if not pdf or marker.pattern is None:
        return None
    text, starts = pdf
    # Page by page: the first match is usually early, and a whole text is ~50 KB to lowercase.
    for page, start in enumerate(starts):
        end = starts[page + 1] if page + 1 < len(starts) else len(text)
        found = snippet(text[start:end], marker)
        if found:
            return f"p. {page + 1}: {found}"
    return None


class _FullTexts:
    """PDFs' texts for snippets, through one read-only connection of its own: snippets are made
    on whatever thread shows them, so it is opened on first need and used under a lock."""

    def __init__(self, db: str):
        self._db = db
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def __call__(self, paper_id: str) -> tuple[str, list[int]] | None:
        if not self._db:
            return None
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = sqlite3.connect(f"file:{self._db}?mode=ro", uri=True,
                                                 check_same_thread=False)
                row = self._conn.execute("SELECT text, page_starts FROM pdf_texts WHERE paper_id = ?",
                                         (paper_id,)).fetchone()
            except sqlite3.Error:  # a library from before PDFs
                return None
        return (row[0], json.loads(row[1])) if row else None

    def __del__(self) -> None:
        if self._conn is not None:
            self._conn.close()


class Snippets(Mapping[str, str]):
    """Snippets of a result's hits, each made when first looked up.

    The texts of the first EAGER_TEXTS hits (what a list shows first) are read with the search;
    later ones, in batches when first needed, through a short-lived read-only connection of the
    thread asking (the library's connection belongs to the search's thread)."""

    def __init__(self, conn: sqlite3.Connection, ids: list[str], marker: Marker):
        self._ids = ids
        self._marker = marker
        self._made: dict[str, str] = {}
        self._db = _database_path(conn)
        self._lazy = len(ids) > EAGER_TEXTS
        self._fulltexts = _FullTexts(self._db)
        self._texts = _texts(conn, ids if not self._lazy else ids[:EAGER_TEXTS])
        self._position = {pid: i for i, pid in enumerate(ids)} if self._lazy else {}

    def __getitem__(self, paper_id: str) -> str:
        found = self._made.get(paper_id)
        if found is None:
            texts = self._texts.get(paper_id)
            if texts is None:
                texts = self._read_batch(paper_id)
            found = self._made[paper_id] = make_snippet(
                texts, self._marker, lambda: self._fulltexts(paper_id))
        return found

    def _read_batch(self, paper_id: str) -> tuple[str, str, str]:
        start = self._position[paper_id]  # KeyError for an id that is not a hit, as a Mapping should
        batch = [pid for pid in self._ids[start:start + LAZY_BATCH] if pid not in self._texts]
        conn = sqlite3.connect(f"file:{self._db}?mode=ro", uri=True)
        try:
            self._texts.update(_texts(conn, batch))
        finally:
            conn.close()
        return self._texts[paper_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def _database_path(conn: sqlite3.Connection) -> str:
    return next((row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"), "")


class _Hit(SearchHit):
    """A hit whose snippet is made on first access."""

    def __init__(self, id: str, score: float, snippets: Snippets):
        self.id, self.score, self._snippets = id, score, snippets

    @property  # type: ignore[override]
    def snippet(self) -> str:
        return self._snippets.get(self.id, "")


def snippets_for(conn: sqlite3.Connection, ids: list[str], marker: Marker) -> dict[str, str]:
    fulltexts = _FullTexts(_database_path(conn))
    return {pid: make_snippet(texts, marker, lambda pid=pid: fulltexts(pid))
            for pid, texts in _texts(conn, ids).items()}


# -- did you mean ---------------------------------------------------------------------------------
def _suggest(view: IndexView, text: str, parsed: ql.ParsedQuery, today: dt.date,
             decided: Callable[[str], object]) -> str | None:
    """Replace words the index does not know by the closest known title words, if that matches."""
    from whoosh.analysis import STOP_WORDS

    searcher = view.searcher
    reader = searcher.reader()
    corrector = reader.corrector("spell_title")
    replacements: list[tuple[tuple[int, int], str]] = []
    for node in ql.positive_nodes(parsed.root):
        if not isinstance(node, ql.Word) or node.field not in (None, "title", "abstract", "note"):
            continue
        word = node.text.lower()
        if not _WORD.fullmatch(word) or len(word) < 3 or word in STOP_WORDS:
            continue
        if any(reader.frequency(f, _stem(word)) for f in ("title", "abstract", "note")):
            continue
        options = corrector.suggest(word, limit=1, maxdist=2, prefix=1)
        if options and options[0] != word:
            replacements.append((node.span, options[0]))
    if not replacements:
        return None
    fixed = text
    for (start, end), word in sorted(replacements, reverse=True):
        fixed = fixed[:start] + word + fixed[end:]
    parsed_fixed = ql.parse(fixed, today=today, typing=False)
    query = Compiler(searcher, decided).compile_root(parsed_fixed.root)
    if query is None or not view.evaluate(query):
        return None
    return fixed


# -- more like this -------------------------------------------------------------------------------
def similar(index: SearchIndex, conn: sqlite3.Connection, paper_id: str,
            limit: int = 10) -> list[tuple[SearchHit, list[str]]]:
    """Papers sharing the most distinctive words of this one's title and abstract."""
    from whoosh import query as wq

    row = conn.execute("SELECT title, abstract FROM papers WHERE id = ?", (paper_id,)).fetchone()
    if row is None:
        raise LookupError(paper_id)
    text = f"{row[0]}\n{row[0]}\n{abstract_text.decode(row[1])}"  # the title counts twice
    view = index.view()  # the evaluator (our writer leaves out Whoosh's postings of these fields)
    key_terms = view.searcher.key_terms_from_text("abstract", text, numterms=12)
    if not key_terms:
        return []
    weights = dict(key_terms)
    parts = []
    for term, weight in key_terms:
        parts += [wq.Term("abstract", term, boost=weight), wq.Term("title", term, boost=2 * weight)]
    matched = view.evaluate(wq.Or(parts))
    docnums = top(matched.restricted(~view.mask_of([paper_id])), limit)  # not the paper itself
    having = {term: view.evaluate(wq.Or([wq.Term("abstract", term), wq.Term("title", term)])).mask
              for term, _ in key_terms}
    out = []
    for docnum in docnums:
        ordered = sorted((t for t in having if having[t][docnum]), key=lambda s: -weights.get(s, 0.0))
        out.append((view.paper_id(docnum), float(matched[docnum]), ordered))
    surface: dict[str, str] = {}
    for word in _WORD.findall(text):
        surface.setdefault(_stem(word.lower()), word.lower())
    marker = Marker({s for _, _, st in out for s in st}, set())
    snippets = snippets_for(conn, [pid for pid, _, _ in out], marker)
    return [(SearchHit(pid, round(score, 4), snippets.get(pid, "")), [surface.get(s, s) for s in stems])
            for pid, score, stems in out]
