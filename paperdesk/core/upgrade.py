"""What an upgrade of a library's schema leaves beside it, and the one line that says so.

The copy made before migrating (`library.sqlite3.before-schema-N.bak`, the library's size again:
1.8 GB at a million papers) is made only when a pending step rewrites stored rows: a step marked
additive in `schema.py` (indexes, empty tables, columns without values) runs in one transaction
and cannot lose data, so a run of only those needs none. Older copies from earlier upgrades are
deleted once a new copy has been made and the upgrade has finished: the new one holds everything
they held and all that was done since, and two or three copies of a big library would fill a disk
unnoticed. A run that makes no copy deletes nothing and names the copy that is still there."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

COMPACT_WORTH = 1_000_000  # bytes an upgrade must free before `paperdesk compact` is worth a word


def backup_path(path: Path, schema_version: int) -> Path:
    return path.with_name(f"{path.name}.before-schema-{schema_version}.bak")


def backups(path: Path) -> list[Path]:
    """The library's automatic copies from before its upgrades, oldest first."""
    return sorted(path.parent.glob(f"{path.name}.before-schema-*.bak"), key=lambda p: p.stat().st_mtime)


def copy(conn: sqlite3.Connection, backup: Path, progress: Callable[[int, int, str], None] | None) -> None:
    """The library as it is now into `backup`, by SQLite's backup API: closing a file this process
    opened outside SQLite drops all its POSIX locks on the database, and another process's
    connection then closes as if last and deletes the WAL under ours ("disk I/O error")."""
    def copied(_status: int, remaining: int, total: int) -> None:
        if progress:
            progress(total - remaining, total, "Copying the library before upgrading it")

    with contextlib.closing(sqlite3.connect(backup)) as target:  # 64 MB a step at 4 KB pages
        conn.backup(target, pages=16384, progress=copied)


def size_text(size: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}" if size < 10 * scale else f"{size / scale:,.0f} {unit}"
    return f"{size:,.0f} bytes"


def finished(path: Path, made: Path | None, freed: int) -> str:
    """The upgrade's line (the CLI prints it, the desk's status bar shows it): the copy it made and
    the older ones it deleted, or that it needed none (and which copy is still there); and
    `paperdesk compact` only when the upgrade freed enough space for it to give back."""
    others = [p for p in backups(path) if p != made]
    if made is not None:
        text = (f"library upgraded; its copy from before is {made} ({size_text(made.stat().st_size)}): "
                "delete it once all looks right")
        removed, failed = [], []
        for old in others:
            size = old.stat().st_size
            try:
                old.unlink()
                removed.append((old, size))
            except OSError:
                failed.append((old, size))
        if removed:
            one = len(removed) == 1
            text += (f"; the older {_copies(removed)} from "
                     f"{'an earlier upgrade was' if one else 'earlier upgrades were'} deleted: "
                     f"the new one holds all {'it' if one else 'they'} held")
        others = [p for p, _s in failed]
    else:
        text = "library upgraded: it gained only indexes or tables (nothing rewritten), so no copy was needed"
    if others:
        one = len(others) == 1
        text += (f"; the {_copies([(p, p.stat().st_size) for p in others], where=True)} from "
                 f"{'an earlier upgrade is' if one else 'earlier upgrades are'} still there: delete "
                 f"{'it' if one else 'them'} once no longer needed")
    if freed >= COMPACT_WORTH:
        text += f"; `paperdesk compact` gives back the ~{size_text(freed)} the upgrade freed"
    return text


def _copies(found: list[tuple[Path, int]], *, where: bool = False) -> str:
    names = ", ".join(str(p) if where else p.name for p, _s in found)
    total = size_text(sum(s for _p, s in found))
    return f"{'copy' if len(found) == 1 else 'copies'} {names} ({total})"
