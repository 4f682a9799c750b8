"""Numbered, append-only schema migrations (never edit a step once released)."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from paperdesk.core import abstract_text

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations


class _Steps:
    """The steps in file order, registered as on sqlite-utils' `Migrations` (`@migrations(name=…)`);
    that object, and sqlite_utils with it (~120 ms to import, numpy included), is made only when a
    library is migrated or asked about: opening a current one needs the number of steps only
    (`paperdesk stats` at once)."""

    def __init__(self, name: str):
        self.name = name
        self.steps: list[tuple[str, Callable[[Database], None], bool]] = []
        self.additive: set[str] = set()
        self._made: Migrations | None = None

    def __call__(self, *, name: str, transactional: bool = True,
                 additive: bool = False) -> Callable[[Callable], Callable]:
        """`additive`: the step rewrites no stored row (it creates indexes, empty tables or columns
        without values, or drops an index): in its one transaction it cannot lose data, so a run of
        only such steps needs no copy of the library first (`Library._migrate`)."""
        assert transactional or not additive, "only a step in one transaction is safe without a copy"

        def register(fn: Callable[[Database], None]) -> Callable[[Database], None]:
            self.steps.append((name, fn, transactional))
            if additive:
                self.additive.add(name)
            return fn
        return register

    def __getattr__(self, attr: str) -> Any:  # apply, pending, applied: sqlite-utils' own
        if self._made is None:
            from sqlite_utils.migrations import Migrations

            made = Migrations(self.name)
            for name, fn, transactional in self.steps:
                made(name=name, transactional=transactional)(fn)
            self._made = made
        return getattr(self._made, attr)


migrations = _Steps("paperdesk")
# Where a long migration reports (done, total, what): `apply`'s caller (the desk's window, the CLI's line).
_progress: ContextVar[Callable[[int, int, str], None] | None] = ContextVar("migration_progress", default=None)
# Bytes the steps applied made free inside the tables' pages (0015's compressed abstracts), which
# `paperdesk compact` gives back; free pages are counted by the caller.
_freed: ContextVar[list[int] | None] = ContextVar("migration_freed", default=None)


def apply(db: Database, progress: Callable[[int, int, str], None] | None = None) -> int:
    """Apply the pending migrations, in file order, telling `progress` how a long one goes; returns
    the bytes they freed inside the tables' pages (free pages not included)."""
    freed: list[int] = []
    tokens = _progress.set(progress), _freed.set(freed)
    try:
        migrations.apply(db)
    finally:
        _progress.reset(tokens[0])
        _freed.reset(tokens[1])
    return sum(freed)


def rewrites(db: Database) -> bool:
    """Whether a pending step rewrites stored rows (one not marked additive)."""
    return any(step.name not in migrations.additive for step in migrations.pending(db))


@migrations(name="0001_initial")
def m0001_initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE papers (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            title_norm TEXT NOT NULL,
            abstract TEXT NOT NULL DEFAULT '',
            authors TEXT NOT NULL DEFAULT '[]',      -- JSON list of names
            authors_count INTEGER,
            organization TEXT,
            published TEXT,                          -- YYYY-MM-DD
            upvotes INTEGER,
            arxiv_id TEXT,
            url TEXT,
            starred INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'inbox',    -- inbox | archived
            is_read INTEGER NOT NULL DEFAULT 0,
            added_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX papers_title_norm ON papers(title_norm);
        CREATE INDEX papers_arxiv_id ON papers(arxiv_id);
        CREATE INDEX papers_status_published ON papers(status, published);
        CREATE INDEX papers_published ON papers(published);
        CREATE INDEX papers_starred ON papers(starred) WHERE starred = 1;

        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,                      -- digest | feed | hf | arxiv
            name TEXT NOT NULL,
            origin TEXT NOT NULL,
            date TEXT,
            content_hash TEXT NOT NULL,
            layout TEXT,
            paper_count INTEGER NOT NULL DEFAULT 0,
            feed_id INTEGER,
            imported_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX sources_kind_hash ON sources(kind, content_hash);

        CREATE TABLE provenance (
            paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            upvotes INTEGER,
            seen_at TEXT NOT NULL,
            PRIMARY KEY (paper_id, source_id)
        ) WITHOUT ROWID;
        CREATE INDEX provenance_source ON provenance(source_id, position);

        CREATE TABLE tags (
            paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (paper_id, tag)
        ) WITHOUT ROWID;
        CREATE INDEX tags_tag ON tags(tag);

        CREATE TABLE notes (
            paper_id TEXT PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
            body TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE note_revisions (
            id INTEGER PRIMARY KEY,
            paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            body TEXT NOT NULL,
            saved_at TEXT NOT NULL
        );
        CREATE INDEX note_revisions_paper ON note_revisions(paper_id, id);

        CREATE TABLE highlights (
            id INTEGER PRIMARY KEY,
            paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            field TEXT NOT NULL DEFAULT 'abstract',   -- abstract | title
            quote TEXT NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            color TEXT NOT NULL DEFAULT 'yellow',
            comment TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX highlights_paper ON highlights(paper_id);

        -- Undo log: one row per user operation, with the prior state of every row it touched.
        CREATE TABLE operations (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            undone INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE op_rows (
            op_id INTEGER NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            tbl TEXT NOT NULL,
            key TEXT NOT NULL,       -- JSON list of primary-key values
            before TEXT,             -- JSON row before the operation, NULL if it did not exist
            after TEXT,              -- JSON row captured at undo time, for redo
            PRIMARY KEY (op_id, seq)
        ) WITHOUT ROWID;

        CREATE TABLE feeds (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            feed_group TEXT NOT NULL DEFAULT '',
            every_seconds INTEGER NOT NULL DEFAULT 21600,
            paused INTEGER NOT NULL DEFAULT 0,
            etag TEXT,
            last_modified TEXT,
            last_attempt TEXT,
            last_success TEXT,
            last_error TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            next_refresh TEXT,
            items_seen INTEGER NOT NULL DEFAULT 0,
            added_at TEXT NOT NULL
        );

        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT
        );
        CREATE TABLE saved_searches (
            name TEXT PRIMARY KEY,
            query TEXT NOT NULL,
            created_at TEXT NOT NULL
        );

        -- Papers whose search document is stale; drained by the indexer, resumable after a crash.
        CREATE TABLE index_queue (
            paper_id TEXT PRIMARY KEY,
            queued_at TEXT NOT NULL
        ) WITHOUT ROWID;
        """
    )


@migrations(name="0002_list_order_indexes", additive=True)
def m0002_list_order_indexes(db: Database) -> None:
    # Covering the "date" list order (see orders.ORDERS) so a 100k-paper view sorts from the index.
    db.executescript(
        """
        CREATE INDEX papers_order_date ON papers(
            published IS NULL, published DESC, added_at DESC, id);
        CREATE INDEX papers_status_order_date ON papers(
            status, published IS NULL, published DESC, added_at DESC, id);
        """
    )


@migrations(name="0003_upvotes_order_indexes", additive=True)
def m0003_upvotes_order_indexes(db: Database) -> None:
    # The same for the "upvotes" order: a 100k view sorted by upvotes without a temporary B-tree.
    db.executescript(
        """
        CREATE INDEX papers_order_upvotes ON papers(upvotes IS NULL, upvotes DESC, id);
        CREATE INDEX papers_status_order_upvotes ON papers(status, upvotes IS NULL, upvotes DESC, id);
        """
    )


@migrations(name="0006_pdfs")
def m0006_pdfs(db: Database) -> None:
    # Papers' PDFs (kept under <library>/pdfs/), their text for full-text search, arXiv id
    # resolution, and highlights on PDF pages. A PDF highlight has field 'pdf', a page, and
    # start/end as character indices in that page's text.
    db.executescript(
        """
        CREATE TABLE pdfs (
            paper_id TEXT PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
            path TEXT NOT NULL,                      -- relative to the library folder, under pdfs/
            sha256 TEXT,
            bytes INTEGER,
            pages INTEGER,
            origin TEXT,                             -- fetched | attached
            url TEXT,
            etag TEXT,
            last_modified TEXT,
            fetched_at TEXT,
            text_state TEXT NOT NULL DEFAULT 'pending',  -- pending | done | none | encrypted | error
            arxiv_version TEXT
        );
        CREATE INDEX pdfs_text_pending ON pdfs(paper_id) WHERE text_state = 'pending';

        -- The extracted text of a PDF (derived, rebuilt from the file): one string, and where
        -- each page starts in it (JSON list of character offsets), so a snippet can name its page.
        CREATE TABLE pdf_texts (
            paper_id TEXT PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            page_starts TEXT NOT NULL
        );

        -- Fetch health per paper: failures back off; a withdrawn paper is not asked again.
        CREATE TABLE pdf_fetches (
            paper_id TEXT PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
            last_attempt TEXT,
            last_error TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            next_attempt TEXT
        );

        -- arXiv id look-ups by title: a crash or cancel resumes where it stopped.
        CREATE TABLE arxiv_lookups (
            paper_id TEXT PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
            state TEXT NOT NULL DEFAULT 'pending',   -- pending | resolved | unmatched | error
            tried_at TEXT,
            error TEXT
        );

        ALTER TABLE papers ADD COLUMN arxiv_version TEXT;
        ALTER TABLE papers ADD COLUMN arxiv_source TEXT;  -- feed | resolved | user
        UPDATE papers SET arxiv_source = 'feed' WHERE arxiv_id IS NOT NULL;

        ALTER TABLE highlights ADD COLUMN page INTEGER;   -- NULL for abstract and title highlights
        ALTER TABLE highlights ADD COLUMN quads TEXT;     -- JSON [[x0, y0, x1, y1], ...] in PDF points
        ALTER TABLE highlights ADD COLUMN located INTEGER NOT NULL DEFAULT 1;
        """
    )


@migrations(name="0005_operation_origin")
def m0005_operation_origin(db: Database) -> None:
    # Who made each operation (see ops.py: the desk undoes only its own), and a stamp bumped on
    # every do/undo/redo so an undo never overwrites a later change. Old history: done ones keep
    # their order, undone ones come after them in the order they were undone (newest id first).
    # Note revisions no longer vanish with their paper (undoing an import deleted them by cascade):
    # a redo or re-import of the paper finds them again under its stable id.
    db.executescript(
        """
        ALTER TABLE operations ADD COLUMN origin TEXT NOT NULL DEFAULT '';
        ALTER TABLE operations ADD COLUMN stamp INTEGER NOT NULL DEFAULT 0;
        UPDATE operations SET stamp = id WHERE undone = 0;
        UPDATE operations SET stamp = (SELECT coalesce(max(id), 0) FROM operations) * 2 + 1 - id
            WHERE undone = 1;
        CREATE INDEX operations_stamp ON operations(stamp);
        CREATE INDEX operations_origin ON operations(origin, undone, stamp);

        CREATE TABLE note_revisions_kept (
            id INTEGER PRIMARY KEY,
            paper_id TEXT NOT NULL,
            body TEXT NOT NULL,
            saved_at TEXT NOT NULL
        );
        INSERT INTO note_revisions_kept (id, paper_id, body, saved_at)
            SELECT id, paper_id, body, saved_at FROM note_revisions;
        DROP TABLE note_revisions;
        ALTER TABLE note_revisions_kept RENAME TO note_revisions;
        CREATE INDEX note_revisions_paper ON note_revisions(paper_id, id);
        """
    )


@migrations(name="0007_rules", additive=True)
def m0007_rules(db: Database) -> None:
    # Rules: a saved query plus actions, applied to papers newer than last_rowid (core/rank/rules.py).
    db.executescript(
        """
        CREATE TABLE rules (
            name TEXT PRIMARY KEY,
            query TEXT NOT NULL,
            actions TEXT NOT NULL,                  -- JSON list of {"do": tag|star|archive|read, ...}
            last_rowid INTEGER NOT NULL DEFAULT 0,  -- papers up to this rowid were seen by the rule
            created_at TEXT NOT NULL
        );
        """
    )


@migrations(name="0008_arxiv_snapshot", additive=True)
def m0008_arxiv_snapshot(db: Database) -> None:
    # arXiv categories (space separated, the primary first, as arXiv lists them), a note when a paper
    # the user decided on got a newer version, and how far each snapshot file was read (resumable).
    db.executescript(
        """
        ALTER TABLE papers ADD COLUMN categories TEXT;
        ALTER TABLE papers ADD COLUMN primary_category TEXT;
        ALTER TABLE papers ADD COLUMN updated_note TEXT;   -- "v3, updated after you archived v1"
        CREATE INDEX papers_primary_category ON papers(primary_category) WHERE primary_category IS NOT NULL;
        CREATE INDEX papers_updated ON papers(updated_note) WHERE updated_note IS NOT NULL;

        CREATE TABLE snapshot_imports (
            path TEXT PRIMARY KEY,          -- absolute path of the JSON-lines file
            size INTEGER NOT NULL,
            mtime REAL NOT NULL,
            offset INTEGER NOT NULL DEFAULT 0,   -- bytes read and committed
            line INTEGER NOT NULL DEFAULT 0,     -- lines read and committed
            papers INTEGER NOT NULL DEFAULT 0,   -- papers imported (new or merged)
            bad INTEGER NOT NULL DEFAULT 0,      -- bad lines skipped
            filters TEXT NOT NULL DEFAULT '',    -- the --category/--since the run used
            finished_at TEXT
        );
        """
    )


@migrations(name="0004_index_queue_seq")
def m0004_index_queue_seq(db: Database) -> None:
    # The queue gets an exact order: `seq` grows on every enqueue (AUTOINCREMENT never reuses a
    # value, and `store.enqueue_index` replaces a paper's row, so a re-queued paper gets a new
    # one). A drain removes only the rows it read, by seq; queued_at (1-second resolution) lost
    # a change made by another process in the same second as a drain.
    for sql in (
        """CREATE TABLE index_queue_seq (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            paper_id TEXT NOT NULL UNIQUE,
            queued_at TEXT NOT NULL
        )""",
        "INSERT INTO index_queue_seq (paper_id, queued_at) "
        "SELECT paper_id, queued_at FROM index_queue ORDER BY queued_at, paper_id",
        "DROP TABLE index_queue",
        "ALTER TABLE index_queue_seq RENAME TO index_queue",
    ):
        db.execute(sql)



@migrations(name="0013_arxivdesk", additive=True)
def m0013_arxivdesk(db: Database) -> None:
    # A category view lists its papers by date from this index alone (at 100k papers, 10k in the
    # category: its first 2000 ids in 0.5 ms instead of 25 ms sorting them all); it also serves the
    # sidebar's category counts and replaces the index on primary_category alone.
    db.executescript(
        """
        CREATE INDEX papers_category_order_date ON papers(
            primary_category, published IS NULL, published DESC, added_at DESC, id)
            WHERE primary_category IS NOT NULL;
        DROP INDEX papers_primary_category;
        """
    )



@migrations(name="0014_smaller")
def m0014_smaller(db: Database) -> None:
    # What no query needs (measured at 100k snapshot papers, sqlite's dbstat; EXPLAIN QUERY PLAN
    # of every statement the tests run): papers_status_published (28 bytes a paper) and
    # papers_published (21) serve nothing the list-order indexes (0002, 0013) do not, and the index
    # queue's queued_at (26 bytes a queued paper, a million rows after a snapshot import) was never
    # read since seq (0004) ordered the queue. The queue keeps its rows and its AUTOINCREMENT
    # counter (the index's record compares with it: search/index.py agrees()). The table is
    # rebuilt rather than ALTER TABLE DROP COLUMN, which SQLite before 3.35 lacks.
    conn = db.conn
    counter = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'index_queue'").fetchone()
    for sql in (
        "DROP INDEX IF EXISTS papers_status_published",
        "DROP INDEX IF EXISTS papers_published",
        """CREATE TABLE index_queue_new (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            paper_id TEXT NOT NULL UNIQUE
        )""",
        "INSERT INTO index_queue_new (seq, paper_id) SELECT seq, paper_id FROM index_queue ORDER BY seq",
        "DROP TABLE index_queue",
        "ALTER TABLE index_queue_new RENAME TO index_queue",
    ):
        conn.execute(sql)
    if counter is not None:
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'index_queue'")
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('index_queue', ?)", (counter[0],))



@migrations(name="0016_starred_order", additive=True)
def m0016_starred_order(db: Database) -> None:
    # The Starred view lists its papers by date from this index alone: at 1M papers, 20k starred,
    # its first 2000 ids took 50-450 ms sorting every starred row in a temporary B-tree, 0.5 ms
    # from the index. It also counts them, so it replaces the index on starred alone.
    db.executescript(
        """
        CREATE INDEX papers_starred_order_date ON papers(
            published IS NULL, published DESC, added_at DESC, id) WHERE starred = 1;
        DROP INDEX papers_starred;
        """
    )



@migrations(name="0015_compressed_abstracts", transactional=False)
def m0015_compressed_abstracts(db: Database) -> None:
    # Abstracts are half of what a paper costs: each is stored deflated when that is smaller
    # (core/abstract_text.py). A transaction per 2000 papers, with progress (83 s at 1M papers, loaded):
    # killed midway, the next open goes on, and mixed rows read the same meanwhile.
    saved = abstract_text.compress_stored(db.conn, _progress.get())
    if (freed := _freed.get()) is not None:
        freed.append(saved)


@migrations(name="0017_view_filter_index", additive=True)
def m0017_view_filter_index(db: Database) -> None:
    # A search's hits restricted to the Inbox or the Archive look each hit up by id and test its
    # status: from this index alone, never the row (an abstract's page). At 1M papers, 1000 hits:
    # 6 ms warm and ~90 ms cold -> 1.5 and 2.6 ms, for ~25 MB; every keystroke of a search pays
    # it. Not `starred` too: `count(*) WHERE starred = 1` would then scan it whole instead of the
    # starred papers' partial index.
    db.execute("CREATE INDEX papers_view_filter ON papers(id, status)")


@migrations(name="0018_decision_changes", additive=True)
def m0018_decision_changes(db: Database) -> None:
    # The papers whose triage decision (search/decisions.py: starred, status, updated_note) changed,
    # by rowid, in commit order, whoever wrote them (any connection or process; triggers, so no
    # write path can forget): a search keeps its decision masks and patches the papers listed since
    # it last looked, where it read every archived paper again after any change (at 1M papers,
    # 333k archived, ~40 ms a search). A paper made or deleted with no decision changes no mask.
    # At every 1000th row the rows 100,000 older go (a reader further behind reads all again).
    db.executescript(
        """
        CREATE TABLE decision_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, paper INTEGER NOT NULL);
        CREATE TRIGGER decision_changed AFTER UPDATE OF starred, status, updated_note ON papers
            WHEN old.starred IS NOT new.starred OR old.status IS NOT new.status
                 OR (old.updated_note IS NULL) IS NOT (new.updated_note IS NULL)
            BEGIN INSERT INTO decision_changes (paper) VALUES (new.rowid); END;
        CREATE TRIGGER decision_made AFTER INSERT ON papers
            WHEN new.starred IS NOT 0 OR new.status IS NOT 'inbox' OR new.updated_note IS NOT NULL
            BEGIN INSERT INTO decision_changes (paper) VALUES (new.rowid); END;
        CREATE TRIGGER decision_gone AFTER DELETE ON papers
            WHEN old.starred IS NOT 0 OR old.status IS NOT 'inbox' OR old.updated_note IS NOT NULL
            BEGIN INSERT INTO decision_changes (paper) VALUES (old.rowid); END;
        CREATE TRIGGER decision_changes_kept AFTER INSERT ON decision_changes WHEN new.seq % 1000 = 0
            BEGIN DELETE FROM decision_changes WHERE seq <= new.seq - 100000; END;
        """
    )


@migrations(name="0019_membership_changes", additive=True)
def m0019_membership_changes(db: Database) -> None:
    # How often each tag's, source's and primary category's papers changed: a counter per one of
    # them, bumped by triggers (any connection or process, any write, a foreign key's cascading
    # delete too). A search within such a view keeps its papers until their counter moves, where it
    # read them again after any commit (at 1M papers a snapshot's source, 0.3-0.7 s, after every
    # star or note). A row moved to another paper, tag or source counts for both sides.
    db.executescript(
        """
        CREATE TABLE membership_changes (
            kind TEXT NOT NULL,     -- tag | source | category
            key NOT NULL,           -- the tag, the source's id, the category
            changes INTEGER NOT NULL,
            PRIMARY KEY (kind, key)
        ) WITHOUT ROWID;
        CREATE TRIGGER tag_member_added AFTER INSERT ON tags BEGIN
            INSERT INTO membership_changes VALUES ('tag', new.tag, 1)
                ON CONFLICT DO UPDATE SET changes = changes + 1; END;
        CREATE TRIGGER tag_member_removed AFTER DELETE ON tags BEGIN
            INSERT INTO membership_changes VALUES ('tag', old.tag, 1)
                ON CONFLICT DO UPDATE SET changes = changes + 1; END;
        CREATE TRIGGER tag_member_moved AFTER UPDATE OF paper_id, tag ON tags
            WHEN old.paper_id IS NOT new.paper_id OR old.tag IS NOT new.tag BEGIN
            INSERT INTO membership_changes VALUES ('tag', old.tag, 1)
                ON CONFLICT DO UPDATE SET changes = changes + 1;
            INSERT INTO membership_changes VALUES ('tag', new.tag, 1)
                ON CONFLICT DO UPDATE SET changes = changes + 1; END;
        CREATE TRIGGER source_member_added AFTER INSERT ON provenance BEGIN
            INSERT INTO membership_changes VALUES ('source', new.source_id, 1)
                ON CONFLICT DO UPDATE SET changes = changes + 1; END;
        CREATE TRIGGER source_member_removed AFTER DELETE ON provenance BEGIN
            INSERT INTO membership_changes VALUES ('source', old.source_id, 1)
                ON CONFLICT DO UPDATE SET changes = changes + 1; END;
        CREATE TRIGGER source_member_moved AFTER UPDATE OF paper_id, source_id ON provenance
            WHEN old.paper_id IS NOT new.paper_id OR old.source_id IS NOT new.source_id BEGIN
            INSERT INTO membership_changes VALUES ('source', old.source_id, 1)
                ON CONFLICT DO UPDATE SET changes = changes + 1;
            INSERT INTO membership_changes VALUES ('source', new.source_id, 1)
                ON CONFLICT DO UPDATE SET changes = changes + 1; END;
        CREATE TRIGGER category_member_added AFTER INSERT ON papers
            WHEN new.primary_category IS NOT NULL BEGIN
            INSERT INTO membership_changes VALUES ('category', new.primary_category, 1)
                ON CONFLICT DO UPDATE SET changes = changes + 1; END;
        CREATE TRIGGER category_member_removed AFTER DELETE ON papers
            WHEN old.primary_category IS NOT NULL BEGIN
            INSERT INTO membership_changes VALUES ('category', old.primary_category, 1)
                ON CONFLICT DO UPDATE SET changes = changes + 1; END;
        -- (NULL is no view: the side that is NULL is skipped)
        CREATE TRIGGER category_member_moved AFTER UPDATE OF primary_category ON papers
            WHEN old.primary_category IS NOT new.primary_category BEGIN
            INSERT INTO membership_changes SELECT 'category', old.primary_category, 1
                WHERE old.primary_category IS NOT NULL ON CONFLICT DO UPDATE SET changes = changes + 1;
            INSERT INTO membership_changes SELECT 'category', new.primary_category, 1
                WHERE new.primary_category IS NOT NULL ON CONFLICT DO UPDATE SET changes = changes + 1; END;
        """
    )


SCHEMA_VERSION = len(migrations.steps)
