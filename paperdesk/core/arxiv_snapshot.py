"""The arXiv metadata snapshot (JSON lines, ~2.7M papers, ~4.5 GB) streamed into the library.

The file is read line by line, never whole. Papers go in by parts of `PART` lines, each one
transaction that also records how far the file was read (`snapshot_imports`), so a crash or Ctrl-C
loses at most the part in flight and a second run continues there; a finished file adds nothing.
Every part adds to one source row per file, and papers merge with digest and feed sightings by
arXiv id or normalised title (store.merge_batch). A bad line (broken JSON, no id, absurd size) is
counted with its line number and skipped; it never stops the import or leaves half a paper.
Titles and abstracts keep their TeX; whitespace is made single.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import fnmatch
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from paperdesk.core.records import IncomingPaper, RejectedInput, SourceBatch
from paperdesk.core.store import MergeResult
from paperdesk.core.timeutil import now_iso

if TYPE_CHECKING:
    from paperdesk.core.library import Library, Progress

PART = 2000               # lines per transaction
MAX_LINE = 1 << 20        # a line past 1 MB is not a paper's metadata
MAX_AUTHORS = 500
BAD_LINES_KEPT = 50       # line numbers reported; the count is always exact
_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})$")



class SnapshotError(RejectedInput):
    pass


@dataclass
class SnapshotReport:
    path: str
    lines: int = 0            # lines read in this run
    papers: int = 0           # papers stored in this run (new or merged)
    new: int = 0
    filtered: int = 0         # lines skipped by --category/--since
    bad: int = 0
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    resumed_at_line: int = 0  # 0: from the start
    finished: bool = False
    already_done: bool = False
    cancelled: bool = False

    def summary(self) -> str:
        if self.already_done:
            return f"{self.path}: already imported (nothing new)"
        words = [f"{self.papers} papers stored ({self.new} new)"]
        if self.filtered:
            words.append(f"{self.filtered} outside the filters")
        if self.bad:
            words.append(f"{self.bad} bad line{'s' if self.bad != 1 else ''} skipped")
        where = f" (continued at line {self.resumed_at_line + 1})" if self.resumed_at_line else ""
        end = "" if self.finished else "; stopped early: run again to continue"
        return f"{Path(self.path).name}{where}: {'; '.join(words)}{end}"

    def to_json(self) -> dict:
        return {**asdict(self), "bad_lines": [{"line": n, "reason": r} for n, r in self.bad_lines]}


@dataclass
class Filters:
    categories: Sequence[str] = ()   # fnmatch patterns: cs.CL, cs.*
    since: dt.date | None = None     # update_date on or after

    def key(self) -> str:
        return json.dumps([sorted(self.categories), self.since.isoformat() if self.since else None])

    def keep(self, record: dict) -> bool:
        if self.categories:
            cats = str(record.get("categories") or "").split()
            if not any(fnmatch.fnmatchcase(c, pat) for c in cats for pat in self.categories):
                return False
        if self.since:
            updated = str(record.get("update_date") or "")[:10]
            if not updated or updated < self.since.isoformat():
                return False
        return True


def _text(value: object) -> str:
    return " ".join(str(value).split()) if isinstance(value, str) else ""


def _authors(record: dict) -> list[str]:
    parsed = record.get("authors_parsed")
    names: list[str] = []
    if isinstance(parsed, list):
        for item in parsed[:MAX_AUTHORS]:
            if isinstance(item, list) and item:
                last, first, suffix = ([*map(_text, item), "", ""])[:3]
                name = " ".join(p for p in (first, last, suffix) if p)
                if name:
                    names.append(name)
    if not names and isinstance(record.get("authors"), str):
        names = [n for n in (_text(a) for a in re.split(r",\s*|\s+and\s+", record["authors"])) if n]
    return names[:MAX_AUTHORS]


def _first_date(record: dict) -> str | None:
    versions = record.get("versions")
    if isinstance(versions, list) and versions and isinstance(versions[0], dict):
        created = versions[0].get("created")
        if isinstance(created, str):
            try:
                return email.utils.parsedate_to_datetime(created).date().isoformat()
            except (TypeError, ValueError, IndexError):
                pass
    updated = record.get("update_date")
    if isinstance(updated, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", updated):
        return updated
    return None


def _last_version(record: dict) -> str | None:
    versions = record.get("versions")
    if isinstance(versions, list) and versions and isinstance(versions[-1], dict):
        v = versions[-1].get("version")
        if isinstance(v, str) and re.fullmatch(r"v\d{1,4}", v):
            return v
    return None


def paper_from(record: object) -> IncomingPaper:
    """One snapshot object as a paper, or ValueError naming what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    arxiv_id = record.get("id")
    if not isinstance(arxiv_id, str) or not arxiv_id.strip():
        raise ValueError("no id")
    arxiv_id = arxiv_id.strip()
    if not _ID.match(arxiv_id):
        raise ValueError(f"not an arXiv id: {arxiv_id[:40]!r}")
    title = _text(record.get("title"))
    if not title:
        raise ValueError("no title")
    return IncomingPaper(
        title=title, abstract=_text(record.get("abstract")), authors=_authors(record),
        published=_first_date(record), arxiv_id=arxiv_id, url=f"https://arxiv.org/abs/{arxiv_id}",
        categories=" ".join(str(record.get("categories") or "").split()) or None,
        arxiv_version=_last_version(record),
    )


def _state(conn: sqlite3.Connection, path: str) -> dict | None:
    cur = conn.execute("SELECT * FROM snapshot_imports WHERE path = ?", (path,))
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


def import_snapshot(lib: Library, file: str | Path, filters: Filters | None = None, *,
                    progress: Progress | None = None,
                    cancelled: Callable[[], bool] | None = None) -> SnapshotReport:
    filters = filters or Filters()
    path = Path(file).expanduser().resolve()
    report = SnapshotReport(path=str(path))
    try:
        st = path.stat()
    except OSError as exc:
        raise SnapshotError(f"{path}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise SnapshotError(f"{path}: not a regular file")
    if not os.access(path, os.R_OK):  # before anything is recorded; else the CLI's line would
        raise SnapshotError(f"{path}: cannot be read (permission denied)")  # blame the library
    state = _state(lib.conn, str(path))
    same = state is not None and state["size"] == st.st_size and state["mtime"] == st.st_mtime \
        and state["filters"] == filters.key()
    if same and state["finished_at"]:
        report.already_done = report.finished = True
        return report
    offset, line_no = (state["offset"], state["line"]) if same else (0, 0)
    report.resumed_at_line = line_no
    with lib.transaction() as conn:
        conn.execute(
            "INSERT INTO snapshot_imports (path, size, mtime, offset, line, filters) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET size = excluded.size, "
            "mtime = excluded.mtime, offset = excluded.offset, line = excluded.line, "
            "filters = excluded.filters, finished_at = NULL",
            (str(path), st.st_size, st.st_mtime, offset, line_no, filters.key()))
    source_id = _source_of(lib.conn, path)
    with open(path, "rb") as fh:
        fh.seek(offset)
        while True:
            if cancelled and cancelled():
                report.cancelled = True
                break
            papers, bad, filtered, start_line = [], [], 0, line_no
            while len(papers) + len(bad) + filtered < PART:
                raw = fh.readline(MAX_LINE + 1)
                if not raw:
                    break
                if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                    while raw and not raw.endswith(b"\n"):  # skip the rest of the absurd line
                        offset += len(raw)
                        raw = fh.readline(MAX_LINE + 1)
                    offset += len(raw)
                    line_no += 1
                    bad.append((line_no, "line longer than 1 MB"))
                    continue
                offset += len(raw)
                line_no += 1
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except ValueError:
                    bad.append((line_no, "broken JSON"))
                    continue
                try:
                    paper = paper_from(record)
                except ValueError as exc:
                    bad.append((line_no, str(exc)))
                    continue
                if not filters.keep(record):
                    filtered += 1
                    continue
                papers.append(paper)
            if line_no == start_line:
                break  # end of file
            result = _store_part(lib, path, source_id, papers, start_line, line_no, offset, bad)
            if result is not None:
                source_id = result.source_id
                report.papers += result.seen
                report.new += len(result.created)
            report.lines += line_no - start_line
            report.filtered += filtered
            report.bad += len(bad)
            report.bad_lines += bad[: max(BAD_LINES_KEPT - len(report.bad_lines), 0)]
            if progress:
                progress(offset, st.st_size, f"line {line_no:,}")
    if not report.cancelled:
        report.finished = True
        with lib.transaction() as conn:
            conn.execute("UPDATE snapshot_imports SET finished_at = ? WHERE path = ?", (now_iso(), str(path)))
    return report


def _source_of(conn: sqlite3.Connection, path: Path) -> int | None:
    row = conn.execute("SELECT id FROM sources WHERE kind = 'arxiv' AND origin = ? AND layout = 'snapshot' "
                       "ORDER BY id DESC LIMIT 1", (str(path),)).fetchone()
    return row[0] if row else None


def _store_part(lib: Library, path: Path, source_id: int | None, papers: list[IncomingPaper],
                start_line: int, end_line: int, offset: int, bad: list) -> MergeResult | None:
    """One part in one transaction, with how far the file was read."""
    def bookkeeping(conn: sqlite3.Connection, result: MergeResult | None = None) -> None:
        conn.execute("UPDATE snapshot_imports SET offset = ?, line = ?, papers = papers + ?, bad = bad + ? "
                     "WHERE path = ?", (offset, end_line, result.seen if result else 0, len(bad), str(path)))

    if not papers:
        with lib.transaction() as conn:
            bookkeeping(conn)
        return None
    digest = hashlib.sha256(f"{path}\n{start_line}\n{end_line}\n{os.getpid()}".encode()).hexdigest()
    batch = SourceBatch(kind="arxiv", name=f"arXiv snapshot {path.name}", origin=str(path),
                        date=dt.date.today().isoformat(), content_hash=digest, papers=papers,
                        layout="snapshot")
    found: list[MergeResult] = []

    def then(conn: sqlite3.Connection, result: MergeResult) -> None:
        found.append(result)
        bookkeeping(conn, result)

    lib.import_batch(batch, source_id=source_id, then=then, drain=False)
    return found[0] if found else None
