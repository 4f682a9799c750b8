"""Refreshing subscriptions: network in worker threads, every database write on the caller's thread.

A refresh is three steps, usable separately (the desk fetches outside its writer thread and
queues each `apply_outcome` there as a short job):

1. `plan_refresh(lib, ...)` (library thread): plain-value `FeedJob`s for the feeds to refresh;
2. `run_job(job, client)` (any thread, no database): fetch and parse into a `FeedOutcome`;
   `Fetcher` runs them on at most `workers` threads, one HTTP client per thread;
3. `apply_outcome(lib, outcome)` (library thread): import the batch in one transaction, then
   record the feed's health. A failing feed imports nothing and keeps everything stored.

`refresh_feeds` runs all three.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from paperdesk.core.digest import read_digest
from paperdesk.core.feeds.fetch import DEFAULT_LIMITS, FetchLimits, fetch, make_client
from paperdesk.core.feeds.parse import parse_document
from paperdesk.core.feeds.subscriptions import Feed, FeedError, folder_path
from paperdesk.core.library import Library, Progress
from paperdesk.core.records import RejectedInput, SourceBatch
from paperdesk.core.timeutil import iso

if TYPE_CHECKING:
    import httpx

MAX_WORKERS = 4
BACKOFF_START = 15 * 60  # first retry after a failure
BACKOFF_CAP = 24 * 3600  # never wait longer than this (or the feed's own interval, if longer)
DIGEST_SUFFIXES = (".txt", ".md")
_RNG = random.Random()


@dataclass(frozen=True)
class FeedJob:
    """What a worker needs to refresh one feed: plain values, no connection."""

    feed_id: int
    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    is_folder: bool = False


@dataclass
class FeedOutcome:
    """What a worker produced for one feed; `apply_outcome` turns it into stored state."""

    job: FeedJob
    status: str  # "ok" | "not-modified" | "error" | "cancelled"
    batches: list[SourceBatch] = field(default_factory=list)
    items: int = 0
    error: str | None = None
    retry_after: float | None = None
    etag: str | None = None
    last_modified: str | None = None
    skipped: list[str] = field(default_factory=list)  # digest files in a folder that were rejected
    moved_to: str | None = None  # the address the feed moved to for good (301/308)


@dataclass
class FeedResult:
    feed_id: int
    name: str
    status: str  # "ok" | "not-modified" | "error" | "cancelled"
    new: int = 0  # papers new to the library
    items: int = 0  # items the feed listed
    error: str | None = None  # plain words
    next_refresh: str | None = None
    skipped: list[str] = field(default_factory=list)
    moved_to: str | None = None  # the feed moved permanently there (its stored address, if not kept)
    kept_address: str | None = None  # why the old address was kept after a permanent redirect

    def summary(self) -> str:
        if self.status == "ok":
            text = f"{self.items} items, {self.new} new"
            if self.skipped:
                text += f"; skipped {len(self.skipped)}: " + "; ".join(self.skipped)
        elif self.status == "not-modified":
            text = "unchanged"
        else:
            return self.error or self.status
        if self.moved_to:
            text += f"; moved permanently to {self.moved_to}: " + (
                f"address kept, {self.kept_address}" if self.kept_address else "address updated")
        return text

    def to_json(self) -> dict:
        return asdict(self)


# -- step 1: plan ------------------------------------------------------------------------------------
def plan_refresh(lib: Library, feed_ids: Iterable[int] | None = None, *,
                 due_only: bool = True) -> list[FeedJob]:
    """Feeds to refresh: the given ones (paused too, when named) or all, optionally only the due ones."""
    if feed_ids is not None:
        feeds = [lib.feeds.get(int(i)) for i in dict.fromkeys(feed_ids)]
    else:
        feeds = [f for f in lib.feeds.all() if not f.paused]
    if due_only:
        stamp = iso()
        feeds = [f for f in feeds if f.next_refresh is None or f.next_refresh <= stamp]
    return [_job(f) for f in feeds]


def due_count(lib: Library) -> int:
    """How many feeds are due (for a scheduler deciding whether to start a job)."""
    return lib.conn.execute(
        "SELECT count(*) FROM feeds WHERE paused = 0 AND (next_refresh IS NULL OR next_refresh <= ?)",
        (iso(),)).fetchone()[0]


def _job(feed: Feed) -> FeedJob:
    return FeedJob(feed_id=feed.id, name=feed.name, url=feed.url, etag=feed.etag,
                   last_modified=feed.last_modified, is_folder=feed.is_folder)


# -- step 2: fetch and parse (any thread) -----------------------------------------------------------
def run_job(job: FeedJob, client: httpx.Client, *, limits: FetchLimits = DEFAULT_LIMITS,
            cancelled: Callable[[], bool] | None = None, today: dt.date | None = None) -> FeedOutcome:
    """Never raises: anything that goes wrong becomes an "error" outcome for this feed only."""
    try:
        if job.is_folder:
            return _read_folder(job, today)
        result = fetch(client, job.url, etag=job.etag, last_modified=job.last_modified, limits=limits,
                       cancelled=cancelled)
        if result.status == "error":
            # A download cut short because the user cancelled is not the feed's failure.
            status = "cancelled" if cancelled and cancelled() else "error"
            return FeedOutcome(job, status, error=result.error, retry_after=result.retry_after)
        if result.status == "not-modified":
            return FeedOutcome(job, "not-modified", etag=result.etag, last_modified=result.last_modified,
                               moved_to=result.moved_to)
        parsed = parse_document(result.body, url=job.url, name=job.name, content_type=result.content_type,
                                today=today)
        return FeedOutcome(job, "ok", batches=[parsed.batch], items=parsed.items, etag=result.etag,
                           last_modified=result.last_modified, moved_to=result.moved_to)
    except RejectedInput as exc:
        return FeedOutcome(job, "error", error=str(exc))
    except Exception as exc:  # a bug or a parser crash must not stop the other feeds
        return FeedOutcome(job, "error", error=f"unexpected problem: {type(exc).__name__}: {exc}")


def _read_folder(job: FeedJob, today: dt.date | None) -> FeedOutcome:
    folder = folder_path(job.url)
    if not folder.is_dir():
        return FeedOutcome(job, "error", error=f"the folder {folder} is missing")
    outcome = FeedOutcome(job, "ok")
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in DIGEST_SUFFIXES and p.is_file())
    except OSError as exc:
        return FeedOutcome(job, "error", error=f"cannot read the folder {folder}: {exc.strerror}")
    for path in files:
        try:
            batch = read_digest(path, today=today)
        except RejectedInput as exc:
            outcome.skipped.append(f"{path.name}: {exc}")
            continue
        outcome.batches.append(batch)
        outcome.items += len(batch.papers)
    return outcome


# -- step 3: store (library thread) ------------------------------------------------------------------
def apply_outcome(lib: Library, outcome: FeedOutcome, *, rng: random.Random | None = None) -> FeedResult:
    """Import what a feed delivered and record its health; one failing feed changes nothing else."""
    job = outcome.job
    result = FeedResult(job.feed_id, job.name, outcome.status, items=outcome.items, error=outcome.error,
                        skipped=list(outcome.skipped))
    if outcome.status == "cancelled":
        return result
    now = dt.datetime.now(dt.UTC)
    if outcome.status == "ok":
        try:
            # Not the user's own change: the desk's undo leaves it alone (see core/ops.py).
            with lib.made_by(f"refresh:{lib.origin}"):
                for batch in outcome.batches:
                    if batch.papers:
                        result.new += lib.import_batch(batch, feed_id=job.feed_id).new
        except sqlite3.Error as exc:  # the batch's transaction rolled back: nothing half-imported
            result.status, result.error = "error", f"could not save the items ({exc})"
        except Exception as exc:  # anything else (a number out of range...) stops this feed only
            result.status, result.error = "error", f"could not save the items ({type(exc).__name__}: {exc})"
    if outcome.moved_to and result.status != "error":
        _follow_move(lib, outcome.moved_to, result)
    try:
        result.next_refresh = _record_health(lib, job, outcome, result, now, rng or _RNG)
    except FeedError:  # unsubscribed while it was being fetched: nothing to record
        pass
    return result


def _follow_move(lib: Library, url: str, result: FeedResult) -> None:
    """A feed that answered through a permanent redirect: store its new address (an undoable
    operation in the log, made by the refresh), unless another feed already has it."""
    result.moved_to = url
    try:
        with lib.made_by(f"refresh:{lib.origin}"):
            lib.feeds.move(result.feed_id, url)
    except FeedError as exc:  # that address is another feed's, or this one was removed meanwhile
        result.kept_address = str(exc)


def _record_health(lib: Library, job: FeedJob, outcome: FeedOutcome, result: FeedResult,
                   now: dt.datetime, rng: random.Random) -> str:
    """Health bookkeeping: not a user operation, so not undoable (lib.transaction, not lib.operation)."""
    feed = lib.feeds.get(job.feed_id)
    stamp = iso(now)
    if result.status == "error":
        failures = feed.failures + 1
        delay = backoff_seconds(failures, feed.every_seconds, outcome.retry_after, rng)
        next_refresh = iso(now + dt.timedelta(seconds=delay))
        with lib.transaction() as conn:
            conn.execute(
                "UPDATE feeds SET last_attempt = ?, last_error = ?, failures = ?, next_refresh = ? "
                "WHERE id = ?", (stamp, result.error, failures, next_refresh, job.feed_id))
        return next_refresh
    next_refresh = iso(now + dt.timedelta(seconds=feed.every_seconds))
    items = result.items = outcome.items if result.status == "ok" else feed.items_seen
    # Validators are kept only once the content they describe is safely stored.
    etag = outcome.etag if outcome.etag is not None or result.status == "ok" else feed.etag
    modified = (outcome.last_modified if outcome.last_modified is not None or result.status == "ok"
                else feed.last_modified)
    with lib.transaction() as conn:
        conn.execute(
            "UPDATE feeds SET last_attempt = ?, last_success = ?, last_error = NULL, failures = 0, "
            "next_refresh = ?, items_seen = ?, etag = ?, last_modified = ? WHERE id = ?",
            (stamp, stamp, next_refresh, items, etag, modified, job.feed_id))
    return next_refresh


def backoff_seconds(failures: int, every_seconds: int, retry_after: float | None = None,
                    rng: random.Random | None = None) -> float:
    """Exponential backoff with ±20% jitter (so failing feeds do not retry in lockstep).

    15 min after the first failure, doubling each time, at most a day (or the feed's own interval
    if longer); never sooner than the server's Retry-After.
    """
    cap = max(BACKOFF_CAP, every_seconds)
    delay = min(cap, BACKOFF_START * 2 ** min(max(failures - 1, 0), 20))
    delay *= (rng or _RNG).uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


# -- all three --------------------------------------------------------------------------------------
def refresh_feeds(lib: Library, feed_ids: Iterable[int] | None = None, *, due_only: bool = True,
                  progress: Progress | None = None, cancelled: Callable[[], bool] | None = None,
                  limits: FetchLimits = DEFAULT_LIMITS, workers: int = MAX_WORKERS,
                  today: dt.date | None = None) -> list[FeedResult]:
    """Refresh feeds; call it on the thread that owns `lib` (all writes happen here).

    Fetches run in a pool of at most `workers` threads; each finished feed is stored as soon as
    it arrives. `progress(done, total, name)` and `cancelled()` are called on this thread.
    Results come back in the order of the plan; cancelled feeds have status "cancelled".
    """
    jobs = plan_refresh(lib, feed_ids, due_only=due_only)
    total = len(jobs)
    if progress:
        progress(0, total, "")
    if not jobs:
        return []
    results: dict[int, FeedResult] = {}
    with Fetcher(limits=limits, workers=min(workers, total), today=today) as fetcher:
        futures: dict[Future, int] = {fetcher.submit(job): n for n, job in enumerate(jobs)}
        pending = set(futures)
        while pending:
            if cancelled and cancelled():
                fetcher.cancel()
            done, pending = wait(pending, timeout=0.05 if cancelled else None, return_when=FIRST_COMPLETED)
            for future in done:
                n = futures[future]
                results[n] = apply_outcome(lib, future.result())  # run_job never raises
                if progress:
                    progress(len(results), total, jobs[n].name)
    return [results.get(n) or FeedResult(job.feed_id, job.name, "cancelled") for n, job in enumerate(jobs)]


class Fetcher:
    """Fetches and parses `FeedJob`s on up to `workers` threads (no database access).

    `submit(job)` gives a Future of the `FeedOutcome`; `cancel()` stops downloads in flight (a
    read waiting for bytes included) and makes jobs not yet started "cancelled"; `close()`
    (or leaving the `with` block) cancels what is left and waits for the threads."""

    def __init__(self, *, limits: FetchLimits = DEFAULT_LIMITS, workers: int = MAX_WORKERS,
                 today: dt.date | None = None):
        self.limits = limits
        self.today = today
        self._stop = threading.Event()
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="paperdesk-feed")

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def submit(self, job: FeedJob) -> Future:
        return self._pool.submit(self._work, job)

    def cancel(self) -> None:
        self._stop.set()

    def close(self, wait_for_threads: bool = True) -> None:
        self._stop.set()
        self._pool.shutdown(wait=wait_for_threads, cancel_futures=True)
        if wait_for_threads:
            for client in self._clients:
                client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _client(self) -> httpx.Client:  # one per worker thread: connection pools are not shared
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = make_client(self.limits)
            with self._lock:
                self._clients.append(client)
        return client

    def _work(self, job: FeedJob) -> FeedOutcome:
        if self._stop.is_set():
            return FeedOutcome(job, "cancelled")
        return run_job(job, self._client(), limits=self.limits, cancelled=self._stop.is_set, today=self.today)
