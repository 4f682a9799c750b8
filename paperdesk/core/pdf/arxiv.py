"""arXiv ids: found by title through the arXiv API, or set by the user (undoable).

A look-up is three steps, like a feed refresh, so a GUI can keep the network off its writer:

1. `plan_lookups(lib, ids)` (library thread): marks the papers `pending` in `arxiv_lookups` and
   returns `TitleBatch`es of plain values; a crash or a cancel leaves them pending for next time;
2. `run_batch(batch, client, ...)` (any thread, no database): one API request for up to
   BATCH_TITLES titles OR'ed together, politely spaced (polite.GATE);
3. `apply_batch(lib, outcome)` (library thread): one transaction; an id is accepted only for a
   title whose normalised form equals ours, and only when no other paper already has it.

`resolve_ids` runs all three. Ids a user set (`arxiv_source = 'user'`) are never touched.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode

import feedparser
import httpx

from paperdesk.core import ops
from paperdesk.core.changes import Changes
from paperdesk.core.feeds.fetch import FetchLimits, fetch, make_client
from paperdesk.core.idlist import IDS, id_array
from paperdesk.core.library import Library, LibraryError, Progress
from paperdesk.core.limits import MAX_VERSION_CHARS
from paperdesk.core.normalize import ARXIV_ID_RE, normalize_title
from paperdesk.core.pdf import settings as pdf_settings
from paperdesk.core.pdf.polite import GATE, Cancelled
from paperdesk.core.store import enqueue_index
from paperdesk.core.timeutil import now_iso

BATCH_TITLES = 8  # titles OR'ed into one request (the URL stays well under 2 KB)
RESULTS_PER_TITLE = 3  # a title may match a few papers; we accept only an exact one
API_LIMITS = FetchLimits(timeout=30.0, total_timeout=90.0, max_bytes=5 * 1024 * 1024, what="arXiv answer")


def api_limits(timeout: float) -> FetchLimits:
    """The API's limits under the timeout setting (`pdf settings timeout`): the whole answer may
    take three times as long as the wait for its next bytes."""
    return FetchLimits(timeout=timeout, total_timeout=3 * timeout, max_bytes=API_LIMITS.max_bytes,
                       what=API_LIMITS.what)
_ABS_ID = re.compile(r"/abs/(.+?)(v\d+)?$")
_QUOTE_UNSAFE = re.compile(r'["()\\]')
# One id and nothing else: bare or "arXiv:"-prefixed, or an arxiv.org abs/pdf address.
_WHOLE_ID = (re.compile(rf"(?i:arxiv:)?(?P<id>{ARXIV_ID_RE.pattern})"),
             re.compile(r"(?i:(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)"
                        rf"(?P<id>{ARXIV_ID_RE.pattern})(?i:\.pdf)?/?(?:[?#]\S*)?"))


@dataclass(frozen=True)
class ArxivEntry:
    arxiv_id: str  # without version
    version: str | None  # "v2"
    title: str


@dataclass(frozen=True)
class TitleBatch:
    """Papers to look up in one request: (paper id, normalised title) pairs."""

    papers: tuple[tuple[str, str], ...]


@dataclass
class BatchOutcome:
    batch: TitleBatch
    status: str  # "ok" | "error" | "cancelled"
    entries: list[ArxivEntry] = field(default_factory=list)
    error: str | None = None


@dataclass
class LookupResult:
    paper_id: str
    state: str  # resolved | unmatched | error | skipped | cancelled
    arxiv_id: str | None = None
    version: str | None = None
    reason: str | None = None

    def summary(self) -> str:
        if self.state == "resolved":
            return f"{self.paper_id}: arXiv {self.arxiv_id}{self.version or ''}"
        return f"{self.paper_id}: {self.state}" + (f": {self.reason}" if self.reason else "")

    def to_json(self) -> dict:
        return asdict(self)


# -- the API's answers ----------------------------------------------------------------------
def parse_entries(body: bytes) -> list[ArxivEntry]:
    """The papers in an arXiv API Atom answer; raises ValueError for an error answer or non-Atom."""
    doc = feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False)
    if not doc.entries and not doc.feed.get("title"):
        raise ValueError("the arXiv API sent something that is not an Atom feed")
    entries = []
    for entry in doc.entries:
        link = entry.get("id", "")
        if "/api/errors" in link:  # arXiv reports a bad query as an entry titled "Error"
            reason = " ".join(entry.get("summary", "").split())
            raise ValueError(f"the arXiv API refused the query: {reason}")
        match = _ABS_ID.search(link)
        if match and ARXIV_ID_RE.fullmatch(match.group(1)):
            title = " ".join(entry.get("title", "").split())
            entries.append(ArxivEntry(match.group(1), match.group(2), title))
    return entries


def title_query(titles: Sequence[str]) -> str:
    """`ti:"…" OR ti:"…"`: each title as a phrase of its normalised words."""
    phrases = [_QUOTE_UNSAFE.sub(" ", normalize_title(t)).strip() for t in titles]
    return " OR ".join(f'ti:"{p}"' for p in phrases if p)


def query_url(api: str, titles: Sequence[str]) -> str:
    params = {"search_query": title_query(titles), "start": 0,
              "max_results": RESULTS_PER_TITLE * len(titles)}
    return f"{api}{'&' if '?' in api else '?'}{urlencode(params)}"  # a mirror's address may have a query


def match(title_norm: str, entries: Iterable[ArxivEntry]) -> ArxivEntry | str | None:
    """The one entry whose normalised title is ours; None if none; "ambiguous" if several papers."""
    found = {e.arxiv_id: e for e in entries if normalize_title(e.title) == title_norm}
    if len(found) > 1:
        return "ambiguous"
    return next(iter(found.values()), None)


# -- step 1: plan ---------------------------------------------------------------------------
def _candidates(lib: Library, ids: Sequence[str] | None) -> tuple[list[str], list[LookupResult]]:
    """Papers to look up, and results for the named ones that are not looked up."""
    if ids is None:
        rows = lib.conn.execute(
            "SELECT p.id FROM papers p LEFT JOIN arxiv_lookups l ON l.paper_id = p.id "
            "WHERE p.arxiv_id IS NULL AND p.arxiv_source IS NULL "
            "AND coalesce(l.state, 'pending') IN ('pending', 'error') ORDER BY p.rowid").fetchall()
        return [r[0] for r in rows], []
    todo, skipped = [], []
    for pid in dict.fromkeys(ids):
        row = lib.conn.execute("SELECT arxiv_id, arxiv_source FROM papers WHERE id = ?", (pid,)).fetchone()
        if row is None:
            raise LibraryError(f"no paper with id {pid}")
        if row[1] == "user":
            skipped.append(LookupResult(pid, "skipped", row[0], reason="its arXiv id was set by hand"))
        elif row[0]:
            skipped.append(LookupResult(pid, "skipped", row[0], reason=f"already has arXiv id {row[0]}"))
        else:
            todo.append(pid)
    return todo, skipped


def plan_lookups(lib: Library,
                 ids: Sequence[str] | None = None) -> tuple[list[TitleBatch], list[LookupResult]]:
    """Mark the papers pending (resumable) and group them into request batches."""
    todo, skipped = _candidates(lib, ids)
    with lib.transaction() as conn:  # bookkeeping, not a user operation
        conn.executemany(
            "INSERT INTO arxiv_lookups (paper_id, state) VALUES (?, 'pending') "
            "ON CONFLICT (paper_id) DO UPDATE SET state = 'pending'", ((pid,) for pid in todo))
    titles: list[tuple[str, str]] = []
    for pid in todo:
        (norm,) = lib.conn.execute("SELECT title_norm FROM papers WHERE id = ?", (pid,)).fetchone()
        titles.append((pid, norm))
    batches = [TitleBatch(tuple(titles[i:i + BATCH_TITLES])) for i in range(0, len(titles), BATCH_TITLES)]
    return batches, skipped


# -- step 2: ask (any thread) ---------------------------------------------------------------
# What setting an id changes: undo keeps just these of the paper (not its abstract).
ID_COLUMNS = ("arxiv_id", "arxiv_version", "arxiv_source", "updated_at")


def run_batch(batch: TitleBatch, client: httpx.Client, *, api: str, interval: float,
              cancelled: Callable[[], bool] | None = None,
              timeout: float = API_LIMITS.timeout) -> BatchOutcome:
    """One request; never raises for network trouble or a bad answer."""
    url = query_url(api, [t for _, t in batch.papers])
    try:
        with GATE.turn(url, interval, cancelled):
            result = fetch(client, url, limits=api_limits(timeout), cancelled=cancelled)
    except Cancelled:
        return BatchOutcome(batch, "cancelled")
    if result.status != "ok":
        if cancelled and cancelled():
            return BatchOutcome(batch, "cancelled")
        return BatchOutcome(batch, "error", error=f"arXiv API: {result.error or result.status}")
    try:
        return BatchOutcome(batch, "ok", entries=parse_entries(result.body))
    except ValueError as exc:
        return BatchOutcome(batch, "error", error=str(exc))


# -- step 3: store (library thread) ---------------------------------------------------------
def apply_batch(lib: Library, outcome: BatchOutcome) -> list[LookupResult]:
    results: list[LookupResult] = []
    if outcome.status == "cancelled":
        return [LookupResult(pid, "cancelled") for pid, _ in outcome.batch.papers]
    now = now_iso()
    changed: list[str] = []
    with lib.operation("resolve", "Find arXiv ids") as rec:
        conn = lib.conn
        for pid, norm in outcome.batch.papers:
            if outcome.status == "error":
                results.append(LookupResult(pid, "error", reason=outcome.error))
                continue
            row = ops.fetch_row(conn, "papers", [pid])
            if row is None:
                continue  # deleted meanwhile (the look-up row went with it)
            if row["arxiv_id"] or row["arxiv_source"] == "user":  # set meanwhile: theirs wins
                results.append(LookupResult(pid, "skipped", row["arxiv_id"], reason="it has an id now"))
                continue
            found = match(norm, outcome.entries)
            if found is None or found == "ambiguous":
                reason = ("several arXiv papers have this exact title" if found else
                          "no arXiv paper has this exact title")
                results.append(LookupResult(pid, "unmatched", reason=reason))
                continue
            assert isinstance(found, ArxivEntry)
            other = conn.execute("SELECT id FROM papers WHERE arxiv_id = ? AND id != ?",
                                 (found.arxiv_id, pid)).fetchone()
            if other:
                results.append(LookupResult(pid, "unmatched", found.arxiv_id,
                                            reason=f"arXiv {found.arxiv_id} is already paper {other[0]}"))
                continue
            rec.touch("papers", [pid], row, columns=ID_COLUMNS)
            conn.execute("UPDATE papers SET arxiv_id = ?, arxiv_version = ?, arxiv_source = 'resolved', "
                         "updated_at = ? WHERE id = ?", (found.arxiv_id, found.version, now, pid))
            changed.append(pid)
            results.append(LookupResult(pid, "resolved", found.arxiv_id, found.version))
        conn.executemany(
            "UPDATE arxiv_lookups SET state = ?, tried_at = ?, error = ? WHERE paper_id = ?",
            [(r.state if r.state != "skipped" else "resolved", now, r.reason, r.paper_id) for r in results])
        enqueue_index(conn, changed)
        rec.changed(Changes(papers=frozenset(changed)))
    return results


# -- all three ------------------------------------------------------------------------------
def resolve_ids(lib: Library, ids: Sequence[str] | None = None, *, progress: Progress | None = None,
                cancelled: Callable[[], bool] | None = None,
                max_requests: int | None = None) -> list[LookupResult]:
    """Find arXiv ids by title for the named papers, or (ids=None) every paper still without one
    (including those a crash or a cancel left pending). Network on this thread, so never on the
    desk's writer (the desk's look-up, `gui/arxiv_lookup.py`, runs the steps above apart).
    `max_requests` bounds a run (3 s a request); the rest stay pending for the next."""
    config = pdf_settings.load(lib)
    batches, results = plan_lookups(lib, ids)
    if max_requests is not None:
        batches = batches[:max_requests]  # the rest stay pending for the next run
    total = sum(len(b.papers) for b in batches)
    done = 0
    with make_client(api_limits(config.timeout), accept="application/atom+xml") as client:
        for batch in batches:
            if progress:
                progress(done, total, "asking arXiv")
            if cancelled and cancelled():
                results += [LookupResult(pid, "cancelled") for pid, _ in batch.papers]
                continue
            outcome = run_batch(batch, client, api=config.arxiv_api,
                                interval=config.interval_for(config.arxiv_api), cancelled=cancelled,
                                timeout=config.timeout)
            results += apply_batch(lib, outcome)
            done += len(batch.papers)
    if progress:
        progress(done, total, "")
    return results


def without_arxiv_id(lib: Library, ids: Sequence[str]) -> list[str]:
    """Those of `ids` a look-up would ask about: no id, none set by hand, not already found
    unmatched (the desk offers a look-up of these after an import)."""
    return [r[0] for r in lib.conn.execute(
        "SELECT p.id FROM papers p LEFT JOIN arxiv_lookups l ON l.paper_id = p.id "
        f"WHERE p.id IN {IDS} AND p.arxiv_id IS NULL "
        "AND p.arxiv_source IS NULL AND coalesce(l.state, 'pending') IN ('pending', 'error')",
        (id_array(ids),))]


# -- set by the user ------------------------------------------------------------------------
def parse_arxiv_id(text: str) -> tuple[str, str | None]:
    """(id, version) from exactly one "2401.12345", "arXiv:2401.12345v2" or arxiv.org abs/pdf URL;
    ValueError for anything else (text that merely holds an id is refused: it may be another's)."""
    found = next(filter(None, (r.fullmatch(text.strip()) for r in _WHOLE_ID)), None)
    if not found:
        raise ValueError(f"{text.strip()[:80]!r} is not one arXiv id (like 2401.12345, "
                         "cond-mat/0603029 or https://arxiv.org/abs/2401.12345)")
    found = ARXIV_ID_RE.search(found.group("id"))
    assert found is not None
    version = found.group(0)[len(found.group(1)):] or None
    if version and len(version) > MAX_VERSION_CHARS:  # the store would cut it (limits.clean_paper)
        raise ValueError(f"{version[:12]}… is not an arXiv version (like v2)")
    return found.group(1), version


def set_arxiv_id(lib: Library, paper_id: str, value: str) -> Changes:
    """Set (or, with "", clear) a paper's arXiv id by hand: undoable, and never overwritten by
    the resolver afterwards."""
    row = ops.fetch_row(lib.conn, "papers", [paper_id])
    if row is None:
        raise LibraryError(f"no paper with id {paper_id}")
    arxiv_id, version = (None, None)
    if value.strip():
        try:
            arxiv_id, version = parse_arxiv_id(value)
        except ValueError as exc:
            raise LibraryError(str(exc)) from None
        other = lib.conn.execute("SELECT id FROM papers WHERE arxiv_id = ? AND id != ?",
                                 (arxiv_id, paper_id)).fetchone()
        if other:
            raise LibraryError(f"arXiv {arxiv_id} is already the id of paper {other[0]}")
    if (row["arxiv_id"], row["arxiv_version"], row["arxiv_source"]) == (arxiv_id, version, "user"):
        return Changes()
    label = f"Set arXiv id of {paper_id}" if arxiv_id else f"Clear arXiv id of {paper_id}"
    with lib.operation("arxiv", label) as rec:
        rec.touch("papers", [paper_id], row, columns=ID_COLUMNS)
        lib.conn.execute("UPDATE papers SET arxiv_id = ?, arxiv_version = ?, arxiv_source = 'user', "
                         "updated_at = ? WHERE id = ?", (arxiv_id, version, now_iso(), paper_id))
        enqueue_index(lib.conn, [paper_id])
        rec.changed(Changes(papers=frozenset([paper_id])))
    return rec.changes
