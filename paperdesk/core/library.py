"""The library facade: the one way the CLI, the GUI and the tests read and change papers."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from paperdesk.core import abstract_text, failures, ops, schema, upgrade
from paperdesk.core.changes import Changes
from paperdesk.core.digest import read_digest
from paperdesk.core.idlist import ID_ROWS, IDS, id_array, joined_ids, split_ids
from paperdesk.core.limits import printable
from paperdesk.core.orders import KEY_COLUMNS, ORDERS, sort_key
from paperdesk.core.paths import DB_FILENAME, default_library_dir
from paperdesk.core.records import RejectedInput, SourceBatch
from paperdesk.core.schema import SCHEMA_VERSION
from paperdesk.core.store import MergeResult, enqueue_index, merge_batch
from paperdesk.core.timeutil import now_iso
from paperdesk.core.view_filter import ViewFilter
from paperdesk.core.words import count_of, shorten

if TYPE_CHECKING:  # types only; these packages load lazily
    from sqlite_utils import Database

    from paperdesk.core.feeds.subscriptions import Feeds
    from paperdesk.core.rank.ranker import Ranker

Progress = Callable[[int, int, str], None]  # (done, total, what)
T = TypeVar("T")
STATUSES = ("inbox", "archived")
# Operations that change only triage decisions, which no search document holds (search/decisions.py).
_DECISION_KINDS = frozenset({"star", "unstar", *STATUSES})

BULK_CACHE_KIB = 65536  # page cache while importing many files (the default is 2 MiB)
BULK_CHECKPOINT_PAGES = 20000  # WAL pages between checkpoints then (the default is 1000)
LABEL_TITLE_CHARS = 40  # a title in an undo/history label: enough to recognise the paper
OPEN_BUSY_MS = 2000  # how long opening waits for a library another program has locked


def reporting(items: Sequence[T], progress: Progress | None, what: Callable[[T], str]) -> Iterator[T]:
    """`items` one by one, telling `progress` of each before it and, however the loop ends, of the end."""
    try:
        for n, item in enumerate(items):
            if progress:
                progress(n, len(items), what(item))
            yield item
    finally:
        if progress:
            progress(len(items), len(items), "")


class LibraryError(Exception):
    """The library cannot be opened or used; the message is meant for the user."""


@dataclass
class FileReport:
    path: str
    ok: bool
    papers: int = 0
    new: int = 0
    updated: int = 0
    already: int = 0
    duplicate_file: bool = False
    layout: str | None = None
    error: str | None = None

    def summary(self) -> str:
        if not self.ok:
            return f"{self.path}: rejected: {self.error}"
        if self.duplicate_file:
            return f"{self.path}: already imported, nothing added"
        return (f"{self.path}: {self.papers} papers: {self.new} new, "
                f"{self.papers - self.new} already in the library")


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)
    cancelled: bool = False
    # Distinct papers seen again after an earlier file of this import added them, and distinct
    # papers that were in the library before it: a first import of overlapping digests has only
    # the former, and calling them "already in the library" misleads.
    repeated: int = 0
    already: int = 0

    @property
    def papers(self) -> int:
        return sum(f.papers for f in self.files)

    @property
    def new(self) -> int:
        return sum(f.new for f in self.files)

    @property
    def rejected(self) -> list[FileReport]:
        return [f for f in self.files if not f.ok]

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        parts = [f"{count_of(self.new, 'paper')} added"]
        if self.repeated:
            parts.append(f"{self.repeated} appeared in more than one digest")
        if self.already:
            parts.append(f"{self.already} already in the library")
        if duplicates := sum(f.duplicate_file for f in self.files):
            parts.append(f"{count_of(duplicates, 'file')} imported before")
        text = "; ".join(parts)
        if self.rejected:
            reasons = "; ".join(f"{Path(f.path).name}: {f.error}" for f in self.rejected)
            word = "file" if len(self.rejected) == 1 else "files"
            text += f"; {len(self.rejected)} {word} rejected: {reasons}"
        return text

    def to_json(self) -> dict:
        return {
            "papers": self.papers, "new": self.new, "repeated": self.repeated, "already": self.already,
            "ok": self.ok, "cancelled": self.cancelled,
            "files": [asdict(f) for f in self.files],
        }


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on any error. The error raised is always the
    first one: SQLite rolls back by itself after some (a full disk), and a ROLLBACK then fails
    with "no transaction is active", which must not hide why."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def connect(path: Path, busy_ms: int = 30000) -> sqlite3.Connection:
    """A connection with the library's settings; one per thread (sqlite3 objects are not shared)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=busy_ms / 1000, check_same_thread=True)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no committed txn
    abstract_text.register(conn)  # SQL that needs an abstract's text: abstract_text(abstract)
    return conn


# `PRAGMA user_version` while an upgrade runs: this plus the schema it leads to (an older PaperDesk
# refuses it as newer; this one goes on with the upgrade and keeps the copy the first try made).
UPGRADING = 1_000_000


class Library:
    """One library folder: `library.sqlite3` (the truth) and derived data beside it."""

    def __init__(self, folder: Path, conn: sqlite3.Connection):
        self.folder = folder
        self.conn = conn
        self._listeners: list[Callable[[Changes], None]] = []
        # True: changes only queue their papers for the search index, and someone else drains
        # the queue (the desk's writer leaves it to an indexer process; see gui/jobs.py).
        self.defer_indexing = False
        # Who this Library's operations are recorded as made by (ops.py): the desk sets its
        # session; a command-line process is itself.
        self.origin = f"cli:{os.getpid()}"
        self._closed = False
        self.warnings: list[str] = []  # for the user: e.g. the search index could not be updated
        self._ranker: Ranker | None = None  # made on first use (`ranker`)
        from paperdesk.core.annotations import Highlights, Notes  # (they import this module)
        from paperdesk.core.search.manager import Search  # (likewise; no Whoosh until it is used)

        self.notes = Notes(self)  # lib.notes.get/set/history/restore/resolve_link
        self.highlights = Highlights(self)  # lib.highlights.add/add_quote/add_pdf_parts/of/get/update/remove
        self.search = Search(self)  # lib.search.run/similar/saved/save/remove_saved/update/check/rebuild
        self._feeds: Feeds | None = None  # made on first use (`feeds`)

    # -- opening ----------------------------------------------------------------------------
    @classmethod
    def open_reader(cls, folder: str | Path) -> Library:
        """A read-only Library (`query_only`) for a reading thread: it never indexes, not even at
        close (draining the search queue is the writer's job)."""
        lib = cls.open(folder)
        lib.conn.execute("PRAGMA query_only = ON")
        lib.defer_indexing = True
        return lib

    @classmethod
    def open(cls, folder: str | Path | None = None, progress: Progress | None = None) -> Library:
        """The library in `folder`, migrated to this schema (`progress` hears a long migration)."""
        folder = Path(folder).expanduser() if folder else default_library_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(f"cannot create library folder {folder}: {exc.strerror}") from None
        path = folder / DB_FILENAME
        conn = None
        try:
            conn = connect(path, busy_ms=OPEN_BUSY_MS)  # fail fast if another program holds it
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute("PRAGMA busy_timeout = 30000")
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise LibraryError(_open_error(path, exc)) from None
        if mode.lower() != "wal":
            conn.close()
            raise LibraryError(f"{path}: cannot switch the database to WAL mode")
        if version > SCHEMA_VERSION and version != UPGRADING + SCHEMA_VERSION:
            conn.close()
            target = version - UPGRADING if version > UPGRADING else version
            raise LibraryError(
                f"{path} was written by a newer PaperDesk (schema {target}, this one knows "
                f"{SCHEMA_VERSION}{'; its upgrade is not finished' if version > UPGRADING else ''}); "
                "upgrade PaperDesk to open it"
            )
        lib = cls(folder, conn)
        lib._migrate(version, progress)
        return lib

    def _migrate(self, version: int, progress: Progress | None = None) -> None:
        """Apply the pending steps; a copy of the library first when one of them rewrites stored
        rows (`upgrade.py`: additive steps need none), and one line in `warnings` saying what
        was kept, deleted and worth compacting."""
        if version == SCHEMA_VERSION:
            return
        backup = upgrade.backup_path(self.path, SCHEMA_VERSION)
        resumed = version == UPGRADING + SCHEMA_VERSION  # its copy from before, if needed, is made
        copying = version > 0 and not resumed and schema.rewrites(self.db)
        if copying:
            upgrade.copy(self.conn, backup, progress)
        free_pages = self.conn.execute("PRAGMA freelist_count").fetchone()[0]
        # Until every step is applied, an older PaperDesk must not open the file (it would not read
        # what the steps done so far wrote, e.g. 0015's compressed abstracts): it refuses a newer one.
        self.conn.execute(f"PRAGMA user_version = {UPGRADING + SCHEMA_VERSION}")
        freed = schema.apply(self.db, progress)
        self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if version > 0:
            page = self.conn.execute("PRAGMA page_size").fetchone()[0]
            freed += max(0, self.conn.execute("PRAGMA freelist_count").fetchone()[0] - free_pages) * page
            made = backup if (copying or resumed) and backup.exists() else None
            self.warnings.append(upgrade.finished(self.path, made, freed))

    def compact(self) -> tuple[int, int]:
        """Rewrite the database without its unused space (SQLite's VACUUM): the file's bytes before
        and after. What 0015 freed stays inside the table's pages until then. Minutes at a million
        papers, and it needs free disk about the file's size (the new pages pass through the WAL)."""
        before = self.path.stat().st_size
        try:
            self.conn.execute("VACUUM")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # (another reader may delay it)
        except sqlite3.Error as exc:
            raise LibraryError(f"{self.path}: not compacted ({exc}); nothing changed") from None
        return before, self.path.stat().st_size

    def interrupt(self) -> None:
        """Stop the statement this library's connection is running (meant to be called from
        another thread: a reader's long read nobody needs any more ends with an error)."""
        self.conn.interrupt()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.search.close()  # indexes a little of the queue if an index exists
        self.conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @functools.cached_property
    def db(self) -> Database:
        """sqlite-utils over the connection, for the migrations (imported only then: ~120 ms)."""
        from sqlite_utils import Database

        return Database(self.conn)

    @property
    def path(self) -> Path:
        return self.folder / DB_FILENAME

    # -- change notification ------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Changes], None]) -> None:
        self._listeners.append(listener)

    def _notify(self, changes: Changes) -> Changes:
        if changes:
            for listener in list(self._listeners):
                listener(changes)
        return changes

    # -- the door: every write is a transaction, every user change an operation ------------------
    @contextlib.contextmanager
    def transaction(self, tell: Changes | None = None) -> Iterator[sqlite3.Connection]:
        """A write that is not an undoable operation (bookkeeping, or an edit merged into the
        last step): one IMMEDIATE transaction; listeners hear `tell` once it has committed."""
        with write_transaction(self.conn) as conn:
            yield conn
        if tell:
            self._notify(tell)

    @contextlib.contextmanager
    def operation(self, kind: str, label: str) -> Iterator[ops.OpRecorder]:
        """One undoable operation in one transaction; dropped from history if it changed nothing.
        The block names what it changed (`op.changed(Changes(...))`); listeners hear it once the
        transaction has committed (never if it failed), and `op.changes` says it afterwards."""
        with write_transaction(self.conn) as conn:
            recorder = ops.OpRecorder(conn, kind, label, self.origin)
            yield recorder
            if recorder.empty:
                recorder.discard()
        self._notify(recorder.changes)

    @contextlib.contextmanager
    def made_by(self, origin: str) -> Iterator[None]:
        """Record the operations of this block as made by `origin` (e.g. a feed refresh)."""
        kept, self.origin = self.origin, origin
        try:
            yield
        finally:
            self.origin = kept

    # -- import -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _bulk_writes(self) -> Iterator[None]:
        """Many transactions in a row: checkpoint the WAL less often and cache more pages.

        Paper ids and dates are spread all over the indexes, so every file's transaction dirties
        pages everywhere, and each checkpoint syncs them to the database file (measured: 10k
        papers into 100k, 8.7 s as usual, 4.9 s like this, 3.4 s with no syncing at all).
        Commits stay as durable as ever; the WAL is checkpointed at the end."""
        conn = self.conn
        cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        every = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cache_size = {cache}")
            conn.execute(f"PRAGMA wal_autocheckpoint = {every}")
            with contextlib.suppress(sqlite3.Error):  # later commits checkpoint; never hide an error
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def import_paths(self, paths: Iterable[str | Path], *, today: dt.date | None = None,
                     progress: Progress | None = None,
                     cancelled: Callable[[], bool] | None = None) -> ImportReport:
        """Import digest files, one transaction per file, and report on each."""
        paths = [Path(p) for p in paths]
        report = ImportReport()
        added: set[str] = set()
        repeated: set[str] = set()
        already: set[str] = set()
        with self._bulk_writes() if len(paths) > 1 else contextlib.nullcontext():
            for n, path in enumerate(reporting(paths, progress, lambda p: p.name)):
                if cancelled and cancelled():
                    report.cancelled = True
                    break
                try:
                    batch = read_digest(path, today=today)
                except RejectedInput as exc:
                    report.files.append(FileReport(path=str(path), ok=False, error=str(exc)))
                    continue
                try:
                    file_report, changes = self._import_batch(batch, str(path))
                except sqlite3.Error as exc:
                    if failures.kind(exc) not in (failures.DISK_FULL, failures.READ_ONLY):
                        raise
                    # A full disk or a read-only folder: this file changed nothing, the files
                    # before it are kept, and the ones after it would fail the same way.
                    report.files += [FileReport(path=str(p), ok=False, error=failures.summary(exc))
                                     for p in paths[n:]]
                    break
                report.files.append(file_report)
                report.changes = report.changes | changes
                repeated |= changes.papers & added
                already |= changes.papers - added
                added |= changes.added
        report.repeated, report.already = len(repeated), len(already)
        self.search.after_write()
        self._notify(report.changes)
        return report

    def import_batch(self, batch: SourceBatch, *, feed_id: int | None = None, source_id: int | None = None,
                     then: Callable[[sqlite3.Connection, MergeResult], None] | None = None,
                     drain: bool = True) -> FileReport:
        """One source's papers in one transaction. `source_id` adds them to a source made before
        (a long file read in parts); `then` runs in the same transaction (resumable bookkeeping)."""
        file_report, changes = self._import_batch(batch, batch.origin, feed_id=feed_id,
                                                  source_id=source_id, then=then)
        if drain:
            self.search.after_write()
        self._notify(changes)
        return file_report

    def _import_batch(self, batch: SourceBatch, label: str, feed_id: int | None = None,
                      source_id: int | None = None,
                      then: Callable[[sqlite3.Connection, MergeResult], None] | None = None,
                      ) -> tuple[FileReport, Changes]:
        with self.operation("import", f"Import {batch.name}") as recorder:
            result = merge_batch(self.conn, batch, recorder, feed_id=feed_id, source_id=source_id)
            if then is not None:
                then(self.conn, result)
            if result.seen and not result.duplicate_source:  # named with its size where undo asks
                self.conn.execute("UPDATE operations SET label = ? WHERE id = ?", (
                    f"Import {batch.name} ({count_of(result.seen, 'paper')}, "
                    f"{len(result.created)} new)", recorder.op_id))
        report = FileReport(
            path=label, ok=True, papers=result.seen, new=len(result.created),
            updated=len(result.updated), already=len(result.existing) + len(result.updated),
            duplicate_file=result.duplicate_source, layout=batch.layout,
        )
        if result.duplicate_source:
            report.papers = 0
            return report, Changes()
        changes = Changes(
            papers=frozenset(result.updated + result.existing), added=frozenset(result.created),
            sources=True,
        )
        return report, changes

    # -- reading ------------------------------------------------------------------------------
    def get(self, paper_id: str) -> dict | None:
        records = self.records([paper_id])
        return records[0] if records else None

    def exists(self, paper_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM papers WHERE id = ?", (paper_id,)).fetchone() is not None

    def paper_ids(self, *, status: str | None = None, starred: bool | None = None,
                  tag: str | None = None, source_id: int | None = None, order: str = "date",
                  limit: int | None = None, offset: int = 0,
                  within: Sequence[str] | None = None, category: str | None = None) -> list[str]:
        """Ids matching the filters, sorted by `order`; with `within`, the ids of `within` that
        match, in the caller's order (e.g. search hits restricted to a view)."""
        view = ViewFilter(status, starred, tag, source_id, category)
        if within is not None:
            where, params = view.sql(walk=True)  # each given paper checked (no tag's whole list read)
            # Each given id looked up by key (CROSS JOIN fixes the loop order): left to itself the
            # planner scans the whole status index (100k rows) for a thousand search hits.
            glue = f" AND {where}" if where else ""
            matched = [r[0] for r in self.conn.execute(
                f"SELECT p.id FROM {ID_ROWS} CROSS JOIN papers p ON p.id = j.value{glue} "
                f"ORDER BY j.key", [id_array(within), *params])]
            return matched[offset:offset + limit] if limit is not None else matched[offset:]
        if limit is None:
            return split_ids(self.paper_ids_joined(order=order, status=status, starred=starred, tag=tag,
                                                   source_id=source_id, category=category))
        sql, params = self._ids_sql(order, view)
        return [r[0] for r in self.conn.execute(f"{sql} LIMIT ? OFFSET ?", [*params, limit, offset])]

    def _ids_sql(self, order: str, view: ViewFilter) -> tuple[str, list]:
        if order == "digest" and view.source_id is not None:
            # The digest's own order: its positions, walked in the digest's index.
            where, params = view.without_source().sql()
            glue = f" AND {where}" if where else ""
            return (f"SELECT p.id FROM provenance v CROSS JOIN papers p ON p.id = v.paper_id "
                    f"WHERE v.source_id = ?{glue} ORDER BY v.position, v.paper_id", [view.source_id, *params])
        where, params = view.sql_for(self.conn)
        by = ORDERS["date" if order == "digest" else order]  # no digest to follow: by date
        return f"SELECT p.id FROM papers p{' WHERE ' + where if where else ''} ORDER BY {by}", params

    def paper_ids_joined(self, *, status: str | None = None, starred: bool | None = None,
                         tag: str | None = None, source_id: int | None = None, order: str = "date",
                         category: str | None = None) -> bytes:
        """A whole view's ids (as `paper_ids`) as UTF-8 joined by `ID_SEPARATOR`: one bytes object
        (a million ids are ~12 MB here, ~70 MB as a list of str)."""
        sql, params = self._ids_sql(order, ViewFilter(status, starred, tag, source_id, category))
        return self.conn.execute(joined_ids(sql), params).fetchone()[0] or b""  # in ONE step

    def papers(self, **filters: object) -> list[dict]:
        """Records (as in `get`) matching filters; see `paper_ids` for the arguments."""
        return self.records(self.paper_ids(**filters))  # type: ignore[arg-type]

    def count(self, *, status: str | None = None, starred: bool | None = None,
              tag: str | None = None, source_id: int | None = None, category: str | None = None) -> int:
        where, params = ViewFilter(status, starred, tag, source_id, category).sql_for(self.conn)
        return self.conn.execute(f"SELECT count(*) FROM papers p{' WHERE ' + where if where else ''}",
                                 params).fetchone()[0]

    def category_counts(self) -> list[tuple[str, int]]:
        """Primary arXiv categories with their papers, most first: one pass over the partial
        `papers_category_order_date` index (papers without categories are not in it)."""
        return self.conn.execute(
            "SELECT primary_category, count(*) AS n FROM papers WHERE primary_category IS NOT NULL "
            "GROUP BY primary_category ORDER BY n DESC, primary_category").fetchall()

    def rows(self, ids: Sequence[str]) -> list[dict]:
        """Bare paper rows (no tags, notes or sources) in the order of `ids`: cheap, for lists,
        which show no abstract: a row has none (`records` decode them, ~10 µs a paper)."""
        return self._rows(ids, abstracts=False)

    def _rows(self, ids: Sequence[str], *, abstracts: bool) -> list[dict]:
        cur = self.conn.execute(
            "SELECT p.*, (SELECT group_concat(tag, ' ') FROM tags t WHERE t.paper_id = p.id) "
            "AS tag_list, EXISTS (SELECT 1 FROM notes n WHERE n.paper_id = p.id AND n.body != '') "
            "AS has_note, EXISTS (SELECT 1 FROM highlights h WHERE h.paper_id = p.id) "
            f"AS has_highlight FROM {ID_ROWS} CROSS JOIN papers AS p ON p.id = j.value",
            (id_array(ids),),
        )
        names = [d[0] for d in cur.description]
        found: dict[str, dict] = {}
        for row in cur:
            record = dict(zip(names, row, strict=True))
            if abstracts:
                record["abstract"] = abstract_text.decode(record["abstract"])
            else:
                del record["abstract"]
            found[record["id"]] = record
        return [found[i] for i in ids if i in found]

    def sort_keys(self, order: str, ids: Iterable[str]) -> dict[str, tuple]:
        """Each paper's `orders.sort_key` for `order` (unknown ids are left out)."""
        cur = self.conn.execute(f"SELECT {', '.join(KEY_COLUMNS)} FROM papers WHERE id IN {IDS}",
                                (id_array(ids),))
        names = [d[0] for d in cur.description]
        order = order if order in ORDERS else "date"
        return {row["id"]: sort_key(order, row) for row in (dict(zip(names, r, strict=True)) for r in cur)}

    def sort_ids(self, ids: Sequence[str], order: str, *, reverse: bool = False,
                 source_id: int | None = None) -> list[str]:
        """`ids` (search hits) in list order `order` (`digest`: their places in digest `source_id`),
        reversed if asked; unknown ids are left out except in a digest's order."""
        if order == "digest" and source_id is not None:
            places = dict(self.conn.execute(
                f"SELECT paper_id, min(position) FROM provenance WHERE source_id = ? AND paper_id IN "
                f"{IDS} GROUP BY paper_id", (source_id, id_array(ids))))
            return sorted(ids, key=lambda pid: (places.get(pid) is None, places.get(pid) or 0, pid),
                          reverse=reverse)
        keys = self.sort_keys(order, ids)
        ordered = sorted((pid for pid in ids if pid in keys), key=keys.__getitem__)
        return ordered[::-1] if reverse else ordered

    def records(self, ids: Sequence[str]) -> list[dict]:
        """Full JSON-ready records in the order of `ids` (unknown ids are skipped)."""
        rows = self._rows(ids, abstracts=True)
        if not rows:
            return []
        id_list = (id_array(r["id"] for r in rows),)
        tags: dict[str, list[str]] = {}
        for pid, tag in self.conn.execute(
                f"SELECT paper_id, tag FROM tags WHERE paper_id IN {IDS} ORDER BY tag", id_list):
            tags.setdefault(pid, []).append(tag)
        notes = dict(self.conn.execute(
            f"SELECT paper_id, body FROM notes WHERE paper_id IN {IDS}", id_list).fetchall())
        sources: dict[str, list[dict]] = {}
        for pid, kind, name, date, upvotes in self.conn.execute(
                f"SELECT v.paper_id, s.kind, s.name, s.date, v.upvotes FROM provenance v "
                f"JOIN sources s ON s.id = v.source_id WHERE v.paper_id IN {IDS} "
                f"ORDER BY s.date, s.id", id_list):
            sources.setdefault(pid, []).append(
                {"kind": kind, "name": name, "date": date, "upvotes": upvotes})
        return [
            {
                "id": r["id"],
                "title": r["title"],
                "abstract": r["abstract"],
                "authors": json.loads(r["authors"] or "[]"),
                "authors_count": r["authors_count"],
                "organization": r["organization"],
                "published": r["published"],
                "upvotes": r["upvotes"],
                "arxiv_id": r["arxiv_id"],
                "arxiv_version": r.get("arxiv_version"),
                "categories": (r.get("categories") or "").split(),
                "primary_category": r.get("primary_category"),
                "updated_note": r.get("updated_note"),
                "url": r["url"] or (f"https://arxiv.org/abs/{r['arxiv_id']}" if r["arxiv_id"] else None),
                "tags": tags.get(r["id"], []),
                "starred": bool(r["starred"]),
                "status": r["status"],
                "note": notes.get(r["id"], ""),
                "sources": sources.get(r["id"], []),
                "added": r["added_at"],  # when it came into the library (ISO time)
            }
            for r in rows
        ]

    def sources(self) -> list[dict]:
        cur = self.conn.execute(
            "SELECT s.id, s.kind, s.name, s.date, s.origin, s.layout, s.imported_at, "
            "count(v.paper_id) AS papers FROM sources s LEFT JOIN provenance v ON v.source_id = s.id "
            "GROUP BY s.id ORDER BY s.date DESC, s.id DESC"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def tag_counts(self) -> dict[str, int]:
        return dict(self.conn.execute(
            "SELECT tag, count(*) FROM tags GROUP BY tag ORDER BY tag").fetchall())

    def stats(self) -> dict:
        one = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        # A whole table's count(*) counts B-tree cells without reading them (3 ms at 300k papers);
        # counting an index range reads every entry (the inbox's 31 ms there): the inbox is what
        # is neither archived nor of a status no write makes (empty ranges around the two), so
        # only the archive's range is read (at 1M papers, 333k archived: 49 -> 16 ms).
        papers = one("SELECT count(*) FROM papers")
        archived = one("SELECT count(*) FROM papers WHERE status = 'archived'")
        other = one("SELECT count(*) FROM papers WHERE status < 'archived' OR "
                    "(status > 'archived' AND status < 'inbox') OR status > 'inbox'")
        return {
            "papers": papers,
            "inbox": papers - archived - other,
            "archived": archived,
            "starred": one("SELECT count(*) FROM papers WHERE starred = 1"),
            "sources": one("SELECT count(*) FROM sources"),
            "digests": one("SELECT count(*) FROM sources WHERE kind = 'digest'"),
            "provenance": one("SELECT count(*) FROM provenance"),
            "tags": self.tag_counts(),
            "notes": one("SELECT count(*) FROM notes WHERE body != ''"),
            "highlights": one("SELECT count(*) FROM highlights"),
            "feeds": one("SELECT count(*) FROM feeds"),
            "schema_version": one("PRAGMA user_version"),
            "path": str(self.path),
        }

    # -- triage -------------------------------------------------------------------------------
    def _existing(self, ids: Iterable[str]) -> list[str]:
        ids = list(dict.fromkeys(ids))
        missing = [i for i in ids if not self.exists(i)]
        if missing:
            raise LibraryError(f"no paper with id {', '.join(missing)}")
        return ids

    def _set_column(self, ids: Iterable[str], column: str, value: object, kind: str,
                    label: str) -> Changes:
        ids = self._existing(ids)
        changed: list[str] = []
        with self.operation(kind, label) as rec:
            kept = (column, "updated_at", "updated_note")  # what undo needs (not the whole row)
            for pid in ids:
                found = self.conn.execute(f"SELECT {', '.join(kept)} FROM papers WHERE id = ?",
                                          (pid,)).fetchone()
                if found is None or found[0] == value:
                    continue
                rec.touch("papers", [pid], dict(zip(kept, found, strict=True)), columns=kept)
                # A new decision answers "updated after you archived it" (core/arxiv_snapshot.py).
                self.conn.execute(f"UPDATE papers SET {column} = ?, updated_at = ?, updated_note = NULL "
                                  f"WHERE id = ?", (value, now_iso(), pid))
                changed.append(pid)
            # Nothing to index: a search reads these columns from SQLite (search/decisions.py).
            rec.changed(Changes(papers=frozenset(changed)))
        return rec.changes

    def star(self, ids: Iterable[str], starred: bool = True, *, label: str | None = None) -> Changes:
        ids = list(ids)
        verb = "Star" if starred else "Unstar"
        return self._set_column(ids, "starred", 1 if starred else 0, verb.lower(),
                                label or self._label(verb, ids))

    def set_status(self, ids: Iterable[str], status: str, *, label: str | None = None) -> Changes:
        if status not in STATUSES:
            raise LibraryError(f"unknown status {status!r} (use {' or '.join(STATUSES)})")
        ids = list(ids)
        verb = "Archive" if status == "archived" else "Move to inbox"
        return self._set_column(ids, "status", status, status, label or self._label(verb, ids))

    def paper_label(self, paper_id: str) -> str:
        """How an operation names one paper to a person: its title, shortened, in quotes (ids are
        12-hex hashes for papers without an arXiv id, which say nothing)."""
        row = self.conn.execute("SELECT title FROM papers WHERE id = ?", (paper_id,)).fetchone()
        return f"“{shorten(row[0], LABEL_TITLE_CHARS)}”" if row and row[0] else paper_id

    def _label(self, verb: str, ids: Sequence[str]) -> str:
        return f"{verb} {self.paper_label(ids[0])}" if len(ids) == 1 else f"{verb} {len(ids)} papers"

    def archive(self, ids: Iterable[str]) -> Changes:
        return self.set_status(ids, "archived")

    def mark_read(self, ids: Iterable[str], read: bool = True) -> None:
        """Seen in the reader: not an undoable user operation, just display state."""
        with self.transaction() as conn:
            conn.executemany("UPDATE papers SET is_read = ? WHERE id = ?",
                             ((1 if read else 0, pid) for pid in ids))

    def tag(self, ids: Iterable[str], tags: Iterable[str], *, label: str | None = None) -> Changes:
        # A new tag is one printable line (a pasted escape sequence or line break would reach the
        # terminal and the list); untag takes any stored tag.
        ids, tags = self._existing(ids), _clean_tags(printable(t, single_line=True) for t in tags)
        check_tag_lengths(tags)
        changed: set[str] = set()
        with self.operation("tag", label or self._label(f"Tag {', '.join(tags)}", ids)) as rec:
            now = now_iso()
            for pid in ids:
                for tag in tags:
                    if ops.fetch_row(self.conn, "tags", [pid, tag]) is None:
                        rec.touch("tags", [pid, tag], fetch=False)
                        self.conn.execute(
                            "INSERT INTO tags (paper_id, tag, added_at) VALUES (?, ?, ?)",
                            (pid, tag, now))
                        changed.add(pid)
            enqueue_index(self.conn, changed)
            rec.changed(Changes(papers=frozenset(changed), tags=bool(changed)))
        return rec.changes

    def untag(self, ids: Iterable[str], tags: Iterable[str]) -> Changes:
        ids, tags = self._existing(ids), _clean_tags(tags)
        changed: set[str] = set()
        with self.operation("untag", self._label(f"Untag {', '.join(tags)}", ids)) as rec:
            for pid in ids:
                for tag in tags:
                    row = ops.fetch_row(self.conn, "tags", [pid, tag])
                    if row is not None:
                        rec.touch("tags", [pid, tag], row)
                        self.conn.execute("DELETE FROM tags WHERE paper_id = ? AND tag = ?",
                                          (pid, tag))
                        changed.add(pid)
            enqueue_index(self.conn, changed)
            rec.changed(Changes(papers=frozenset(changed), tags=bool(changed)))
        return rec.changes

    # -- undo ---------------------------------------------------------------------------------
    def last_undoable(self, *, own: bool = False) -> ops.Operation | None:
        """What `undo` would undo: the change most recently done (by this Library's origin only,
        with `own`)."""
        return ops.latest(self.conn, undone=False, origin=self.origin if own else None)

    def last_redoable(self, *, own: bool = False) -> ops.Operation | None:
        return ops.latest(self.conn, undone=True, origin=self.origin if own else None)

    def undo(self, op_id: int | None = None, *, own: bool = False) -> tuple[ops.Operation | None, Changes]:
        """Undo operation `op_id`, or the last one (made by this origin, with `own`). Refused
        with a LibraryError when a later change to the same rows would be overwritten."""
        return self._replay(op_id, own=own, undo=True)

    def redo(self, op_id: int | None = None, *, own: bool = False) -> tuple[ops.Operation | None, Changes]:
        return self._replay(op_id, own=own, undo=False)

    def _replay(self, op_id: int | None, *, own: bool, undo: bool) -> tuple[ops.Operation | None, Changes]:
        verb = "undo" if undo else "redo"
        with self.transaction() as conn:
            if op_id is None:
                op = ops.latest(conn, undone=not undo, origin=self.origin if own else None)
            else:
                op = ops.get(conn, op_id)
                if op is not None and op.undone != (not undo):
                    raise LibraryError(f"{op.label!r} is already {'undone' if undo else 'done'}")
            if op is None:
                return None, Changes()
            later = ops.conflict(conn, op)
            if later is not None:
                raise LibraryError(
                    f"cannot {verb} {op.label!r}: the later change {later.label!r} "
                    f"({describe_origin(later.origin, self.origin)}) touched the same items; "
                    f"{'undo' if not later.undone else 'redo'} it first")
            try:
                changes = ops.replay(conn, op.id, undo=undo)
            except sqlite3.IntegrityError as exc:  # e.g. a feed's old address another feed has now
                raise LibraryError(f"cannot {verb} {op.label!r}: what it would put back clashes with "
                                   f"what the library holds now ({exc})") from None
            if undo:  # the next refresh must fetch the feed again, not be told "not modified"
                feeds = ops.feeds_of(conn, op.id)
                conn.executemany("UPDATE feeds SET etag = NULL, last_modified = NULL WHERE id = ?",
                                 [(f,) for f in feeds])
            if op.kind not in _DECISION_KINDS:
                enqueue_index(conn, changes.papers | changes.added | changes.removed)
        return op, self._notify(changes)

    def changes_since(self, stamp: int | None, mine: Sequence[str]) -> tuple[int, Changes]:
        """What other processes changed since operation stamp `stamp` (`ops.changes_since`): the
        desk asks, so that a cron import or a command in a shell reaches its list."""
        return ops.changes_since(self.conn, stamp, mine)

    def history(self, limit: int = 200) -> list[ops.Operation]:
        return ops.history(self.conn, limit)

    def undo_back_to(self, op_id: int) -> int | str:
        """Undo every change from operation `op_id` on, whoever made it, newest first; returns how
        many were undone, or why the next one could not be (a later change to the same items)."""
        done = [r[0] for r in self.conn.execute(
            "SELECT id FROM operations WHERE undone = 0 AND id >= ? ORDER BY id DESC", (op_id,))]
        return _replay_each(self.undo, done)

    def redo_up_to(self, op_id: int) -> int | str:
        """Redo every undone change up to operation `op_id`, oldest first (see `undo_back_to`)."""
        undone = [r[0] for r in self.conn.execute(
            "SELECT id FROM operations WHERE undone = 1 AND id <= ? ORDER BY id", (op_id,))]
        return _replay_each(self.redo, undone)

    # -- settings -----------------------------------------------------------------------------
    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    # == managers made on first use ============================================================
    @property
    def feeds(self) -> Feeds:
        """Subscriptions: `lib.feeds.all/get/find/add/rename/set_interval/set_paused/remove/
        import_opml/export_opml` (made on first use)."""
        if self._feeds is None:
            from paperdesk.core.feeds.subscriptions import Feeds

            self._feeds = Feeds(self)
        return self._feeds

    @property
    def ranker(self) -> Ranker:
        """Interest models learnt from triage (`core/rank`); numpy work, made on first use."""
        if self._ranker is None:
            from paperdesk.core.rank.ranker import Ranker

            self._ranker = Ranker(self.folder, self.conn)
        return self._ranker

    @property
    def ranked(self) -> bool:
        """Whether this Library has made its ranker (loaded features, trained models)."""
        return self._ranker is not None

    def pdf_path(self, paper_id: str) -> Path | None:
        """The absolute path of the paper's cached or attached PDF, or None if it has none."""
        row = self.conn.execute("SELECT path FROM pdfs WHERE paper_id = ?", (paper_id,)).fetchone()
        if row is None:
            return None
        path = self.folder / row[0]
        return path if path.is_file() else None


def describe_origin(origin: str, caller: str | None = None) -> str:
    """Who made an operation, in words ("this desk", "a feed refresh", "another process")."""
    if caller is not None and origin == caller:
        return "made here"
    if origin.startswith("refresh:"):
        return "made by a feed refresh"
    if origin.startswith("desk:"):
        return "made in the desk"
    if origin.startswith("cli:"):
        return "made by a paperdesk command"
    return "made earlier"


def _open_error(path: Path, exc: sqlite3.Error) -> str:
    """A start-up failure in plain words, pointing at the newest automatic backup if any."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return f"{path} is locked by another program (is PaperDesk already open on it?)"
    if "unable to open" in text or "readonly" in text or "permission" in text:
        return f"{path} cannot be opened: {exc} (check the folder's permissions)"
    backup = failures.newest_backup(path)
    last = f"; the last automatic backup is {backup}" if backup else ""
    return f"{path} is damaged or not a PaperDesk library ({exc}){last}; nothing was changed"


def _replay_each(replay: Callable[[int], object], op_ids: list[int]) -> int | str:
    for n, one in enumerate(op_ids):
        try:
            replay(one)
        except LibraryError as exc:
            return f"{n} done; {exc}" if n else str(exc)
    return len(op_ids)


def check_tag_lengths(tags: Iterable[str]) -> None:
    from paperdesk.core.limits import MAX_TAG_CHARS

    for tag in tags:
        if len(tag) > MAX_TAG_CHARS:
            raise LibraryError(f"a tag is at most {MAX_TAG_CHARS} characters (this one has {len(tag)})")


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned = list(dict.fromkeys(t.strip().lstrip("#") for t in tags if t.strip().lstrip("#")))
    if not cleaned:
        raise LibraryError("no tag given")
    return cleaned

