"""Numbered, append-only schema migrations (never edit a step once released)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("paperdesk")


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


@migrations(name="0002_list_order_indexes")
def m0002_list_order_indexes(db: Database) -> None:
    # Covering the "date" list order (see library.ORDERS) so a 100k-paper view sorts from the index.
    db.executescript(
        """
        CREATE INDEX papers_order_date ON papers(
            published IS NULL, published DESC, added_at DESC, id);
        CREATE INDEX papers_status_order_date ON papers(
            status, published IS NULL, published DESC, added_at DESC, id);
        """
    )


@migrations(name="0003_upvotes_order_indexes")
def m0003_upvotes_order_indexes(db: Database) -> None:
    # The same for the "upvotes" order: a 100k view sorted by upvotes without a temporary B-tree.
    db.executescript(
        """
        CREATE INDEX papers_order_upvotes ON papers(upvotes IS NULL, upvotes DESC, id);
        CREATE INDEX papers_status_order_upvotes ON papers(status, upvotes IS NULL, upvotes DESC, id);
        """
    )


SCHEMA_VERSION = len(migrations._migrations)
