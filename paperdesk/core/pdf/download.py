"""Fetching papers' PDFs: the feeds' HTTP client, one request at a time per host, checked files.

Three steps, like a feed refresh, so a GUI keeps the network off its writer thread:

1. `plan_downloads(lib, ids)` (library thread): plain-value `PdfJob`s (URL, validators, limits);
2. `download(job, client)` (any thread, no database): a conditional GET under a size cap and
   timeouts, politely spaced (polite.GATE); the body goes to a temporary file in `pdfs/` and is
   checked there (magic bytes, pdfium opens it): a web page served with 200, an empty body or a
   broken file is refused;
3. `apply_download(lib, outcome)` (library thread): the file is renamed into place and recorded,
   or the failure is recorded with a backoff (a 404 waits a month: a withdrawn paper).

`fetch_pdfs` runs all three; `pdfs_to_fetch` lists starred papers whose PDF the background job
should fetch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from paperdesk.core.feeds.fetch import FetchLimits, fetch, make_client
from paperdesk.core.feeds.refresh import backoff_seconds  # the feeds' backoff: 15 min doubling to a day
from paperdesk.core.library import Library, LibraryError, Progress, reporting
from paperdesk.core.pdf import files
from paperdesk.core.pdf import settings as pdf_settings
from paperdesk.core.pdf.polite import GATE, Cancelled
from paperdesk.core.timeutil import iso

ACCEPT_PDF = "application/pdf, */*;q=0.1"
TOTAL_TIMEOUT = 300.0  # seconds for a whole download
GONE_WAIT = 30 * 24 * 3600  # after a 404/410: the paper was withdrawn or the address is wrong


@dataclass(frozen=True)
class PdfJob:
    paper_id: str
    url: str
    folder: Path  # <library>/pdfs
    etag: str | None = None
    last_modified: str | None = None
    max_bytes: int = 100 * 1024 * 1024
    timeout: float = 30.0
    interval: float = 3.0


@dataclass
class PdfOutcome:
    job: PdfJob
    status: str  # ok | not-modified | error | cancelled
    incoming: Path | None = None  # the checked temporary file
    facts: files.PdfFacts | None = None
    error: str | None = None
    http_status: int | None = None
    retry_after: float | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class PdfResult:
    paper_id: str
    status: str  # ok | not-modified | error | cancelled | skipped
    pages: int | None = None
    size: int | None = None
    encrypted: bool = False
    error: str | None = None

    def summary(self) -> str:
        if self.status == "ok":
            text = f"{self.paper_id}: PDF kept ({files.pages_text(self.pages)}, {_size(self.size or 0)})"
            return text + ("; encrypted: needs a password" if self.encrypted else "")
        if self.status == "not-modified":
            return f"{self.paper_id}: PDF unchanged"
        return f"{self.paper_id}: {self.error or self.status}"

    def to_json(self) -> dict:
        return asdict(self)


# -- where a paper's PDF is -------------------------------------------------------------------
def pdf_url(row: dict, config: pdf_settings.PdfSettings) -> str | None:
    """The arXiv PDF of its id (the newest version), else a feed's link that names a PDF."""
    if row.get("arxiv_id"):
        return f"{config.arxiv_pdf}/{row['arxiv_id']}"
    url = row.get("url") or ""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.path.lower().endswith(".pdf"):
        return url
    return None


# -- step 1: plan -----------------------------------------------------------------------------
def plan_downloads(lib: Library, ids: Sequence[str]) -> tuple[list[PdfJob], list[PdfResult]]:
    config = pdf_settings.load(lib)
    folder = files.pdf_dir(lib)
    jobs, skipped = [], []
    for pid in dict.fromkeys(ids):
        cur = lib.conn.execute("SELECT id, arxiv_id, url FROM papers WHERE id = ?", (pid,))
        row = cur.fetchone()
        if row is None:
            raise LibraryError(f"no paper with id {pid}")
        url = pdf_url({"arxiv_id": row[1], "url": row[2]}, config)
        if url is None:
            skipped.append(PdfResult(pid, "skipped", error="no PDF address: the paper has no arXiv id "
                                                            "(find one with `paperdesk resolve`)"))
            continue
        have = files.pdf_row(lib, pid)
        cached = have is not None and have["origin"] == "fetched" and have["url"] == url and \
            lib.pdf_path(pid) is not None
        jobs.append(PdfJob(pid, url, folder, etag=have["etag"] if cached else None,
                           last_modified=have["last_modified"] if cached else None,
                           max_bytes=config.max_pdf_bytes, timeout=config.timeout,
                           interval=config.interval_for(url)))
    return jobs, skipped


def pdfs_to_fetch(lib: Library, limit: int | None = None, *, asked: bool = False) -> list[str]:
    """Starred papers with a PDF address, no PDF yet, and no failure waiting out its backoff;
    for the background job, empty when the user turned it off (`asked`: the user asked for them,
    `pdf fetch --starred`, and the setting does not apply)."""
    config = pdf_settings.load(lib)
    if not config.fetch_starred and not asked:
        return []
    rows = lib.conn.execute(
        "SELECT p.id, p.arxiv_id, p.url FROM papers p LEFT JOIN pdf_fetches f ON f.paper_id = p.id "
        "WHERE p.starred = 1 AND NOT EXISTS (SELECT 1 FROM pdfs d WHERE d.paper_id = p.id) "
        "AND (f.next_attempt IS NULL OR f.next_attempt <= ?) ORDER BY p.updated_at DESC, p.id",
        (iso(),)).fetchall()
    ids = [pid for pid, arxiv_id, url in rows if pdf_url({"arxiv_id": arxiv_id, "url": url}, config)]
    return ids[:limit] if limit is not None else ids


# -- step 2: download (any thread, no database) -------------------------------------------------
def download(job: PdfJob, client: httpx.Client,
             cancelled: Callable[[], bool] | None = None) -> PdfOutcome:
    """Never raises: trouble becomes an "error" outcome with one line."""
    limits = FetchLimits(timeout=job.timeout, total_timeout=TOTAL_TIMEOUT, max_bytes=job.max_bytes,
                         what="PDF")
    try:
        with GATE.turn(job.url, job.interval, cancelled):
            result = fetch(client, job.url, etag=job.etag, last_modified=job.last_modified,
                           limits=limits, cancelled=cancelled)
    except Cancelled:
        return PdfOutcome(job, "cancelled")
    if result.status == "not-modified":
        return PdfOutcome(job, "not-modified", etag=result.etag, last_modified=result.last_modified)
    if result.status != "ok":
        if cancelled and cancelled():
            return PdfOutcome(job, "cancelled")
        error = result.error or "download failed"
        if result.http_status in (404, 410):
            error = f"no PDF at {job.url} (HTTP {result.http_status}): withdrawn, or a wrong address"
        return PdfOutcome(job, "error", error=error, http_status=result.http_status,
                          retry_after=result.retry_after)
    problem = files.sniff(result.body[:1024])
    if problem:
        problem = "the server sent an empty body" if problem == "the file is empty" else \
            f"the server sent {problem}" if problem.startswith("a web page") else problem
        return PdfOutcome(job, "error", error=problem, http_status=result.http_status)
    incoming = None
    try:
        incoming = files.write_temp(job.folder, result.body)
        facts = files.check_file(incoming)
    except files.PdfRejected as exc:
        if incoming:
            incoming.unlink(missing_ok=True)
        return PdfOutcome(job, "error", error=str(exc), http_status=result.http_status)
    except OSError as exc:
        if incoming:
            incoming.unlink(missing_ok=True)
        return PdfOutcome(job, "error", error=f"cannot write the PDF ({exc.strerror})")
    return PdfOutcome(job, "ok", incoming=incoming, facts=facts, http_status=result.http_status,
                      etag=result.etag, last_modified=result.last_modified)


# -- step 3: store (library thread) ---------------------------------------------------------------
def apply_download(lib: Library, outcome: PdfOutcome) -> PdfResult:
    job = outcome.job
    if outcome.status == "cancelled":
        return PdfResult(job.paper_id, "cancelled")
    if outcome.status == "error":
        _record_failure(lib, outcome)
        return PdfResult(job.paper_id, "error", error=outcome.error)
    if outcome.status == "not-modified":
        with lib.transaction() as conn:
            conn.execute("DELETE FROM pdf_fetches WHERE paper_id = ?", (job.paper_id,))
        return PdfResult(job.paper_id, "not-modified")
    assert outcome.incoming is not None and outcome.facts is not None
    try:
        files.keep(lib, job.paper_id, outcome.incoming, outcome.facts, origin="fetched", url=job.url,
                   etag=outcome.etag, last_modified=outcome.last_modified)
    except LibraryError as exc:  # the paper was deleted while its PDF downloaded
        return PdfResult(job.paper_id, "error", error=str(exc))
    finally:
        outcome.incoming.unlink(missing_ok=True)
    facts = outcome.facts
    return PdfResult(job.paper_id, "ok", pages=facts.pages, size=facts.size, encrypted=facts.encrypted)


def _record_failure(lib: Library, outcome: PdfOutcome) -> None:
    """Not a user operation: health bookkeeping for the background fetch's backoff."""
    pid = outcome.job.paper_id
    row = lib.conn.execute("SELECT failures FROM pdf_fetches WHERE paper_id = ?", (pid,)).fetchone()
    failures = (row[0] if row else 0) + 1
    gone = outcome.http_status in (404, 410)
    delay = GONE_WAIT if gone else backoff_seconds(failures, 0, outcome.retry_after)
    now = dt.datetime.now(dt.UTC)
    with lib.transaction() as conn:
        if not lib.exists(pid):
            return
        conn.execute(
            "INSERT INTO pdf_fetches (paper_id, last_attempt, last_error, failures, next_attempt) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (paper_id) DO UPDATE SET last_attempt = excluded.last_attempt, "
            "last_error = excluded.last_error, failures = excluded.failures, "
            "next_attempt = excluded.next_attempt",
            (pid, iso(now), outcome.error, failures, iso(now + dt.timedelta(seconds=delay))))


# -- all three --------------------------------------------------------------------------------------
def fetch_pdfs(lib: Library, ids: Sequence[str], *, progress: Progress | None = None,
               cancelled: Callable[[], bool] | None = None) -> list[PdfResult]:
    """Fetch the papers' PDFs one after another (network on this thread: for the CLI and for jobs
    that may block theirs). One paper's failure never stops the others."""
    jobs, results = plan_downloads(lib, ids)
    with make_client(accept=ACCEPT_PDF) as client:
        for job in reporting(jobs, progress, lambda j: j.paper_id):
            if cancelled and cancelled():
                results.append(PdfResult(job.paper_id, "cancelled"))
                continue
            results.append(apply_download(lib, download(job, client, cancelled)))
    return results


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(n, 1) / 1024:.0f} KB"
