"""Markdown export: one file per paper, or one reading-list file, merged safely into what is there.

Planning renders a file and merges it with the file on disk; writing applies the plan atomically,
re-checking that no editor saved the file in between. One file per paper goes BLOCK papers at a
time (records, highlights and texts of one block in memory), in two passes: the first plans every
file and writes nothing (so a template error stops the export before any change), the second plans
each file again and writes it. A dry run is the first pass, reported. A reading list (one file of
all the papers) is one text: its papers' contexts are made a block at a time, then rendered at once.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from paperdesk.core.export import blocks
from paperdesk.core.export.data import front_values, highlights, paper_context, value_digest
from paperdesk.core.export.filenames import UnsafePath, contained, name_key, safe_stem, short_id
from paperdesk.core.export.files import ChangedMeanwhile, FolderIndex, atomic_write
from paperdesk.core.export.frontmatter import (
    Document,
    FrontMatterError,
    Value,
    emit_front_matter,
    merge_front_matter,
    split_document,
)
from paperdesk.core.export.manifest import Entry, Manifest, transaction
from paperdesk.core.export.report import ExportError, ExportItem, ExportReport
from paperdesk.core.export.templates import LoadedTemplate, TemplateProblem, load_template
from paperdesk.core.idlist import ID_ROWS, IDS, id_array

if TYPE_CHECKING:
    import sqlite3

    from paperdesk.core.library import Library, Progress

LIST_MARK = "reading-list"
BLOCK = 500  # papers read, rendered and planned at a time, so memory stays bounded however many
ID_CHUNK = 20_000  # ids of the caller's list put in the scratch table at a time


class Unmergeable(Exception):
    """The file on disk cannot be merged safely; the message says why, for the report."""


@dataclass
class Plan:
    item: ExportItem
    path: Path | None = None
    text: str = ""
    old: bytes | None = None
    blocks: dict[str, str] = field(default_factory=dict)  # block digests to remember
    front: dict[str, str] = field(default_factory=dict)  # front-matter value digests to remember
    title: str = ""  # the paper's, for progress
    was: Entry | None = None  # what the manifest held for this file


def export_markdown(lib: Library, folder: str | Path, ids: Sequence[str], *, one_file: str | None = None,
                    template: str | Path | None = None, dry_run: bool = False,
                    progress: Progress | None = None, cancelled: Callable[[], bool] | None = None,
                    title: str | None = None) -> ExportReport:
    """Export papers `ids` into `folder` (one file each, or all in `one_file`); see the module doc."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} is a file, not a folder")
    try:
        loaded = load_template(template, "list" if one_file else "paper")
    except TemplateProblem as exc:
        raise ExportError(str(exc)) from None
    report = ExportReport(folder=str(folder), dry_run=dry_run)
    manifest = Manifest.open(folder)
    try:
        if manifest.problem:
            report.warn(manifest.problem)
        count = _unique_ids(manifest.conn, ids)
        if one_file is not None:  # one file of every paper: its template sees them all at once
            papers = _list_papers(lib, manifest.conn, count)
            plan = _plan_list(folder, one_file, papers, loaded, manifest, title, cancelled)
            if not dry_run and plan.item.action in ("create", "update"):
                _make_folder(folder)
            report.cancelled = bool(cancelled and cancelled())
            if not report.cancelled:
                _apply(plan, report, manifest, True, dry_run)
            steps = len(papers)
        else:
            steps = _export_papers(lib, folder, count, loaded, manifest, report, dry_run, progress, cancelled)
        manifest.commit()
    except TemplateProblem as exc:
        raise ExportError(str(exc)) from None
    finally:
        manifest.close()  # commits what was recorded: each row tells a file already written
    if manifest.failed and manifest.problem:
        report.warn(manifest.problem)
    if progress:
        progress(steps, steps, "")
    return report


def _unique_ids(conn: sqlite3.Connection, ids: Sequence[str]) -> int:
    """Put `ids` in the scratch table `ids`, each once in its first place (seq 1, 2, …), a chunk
    at a time (the caller's list may be a compact PackedIds of a million); returns how many."""
    conn.execute("CREATE TABLE ids (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE)")
    with transaction(conn):
        for start in range(0, len(ids), ID_CHUNK):
            conn.execute("INSERT OR IGNORE INTO ids (id) SELECT value FROM json_each(?) ORDER BY key",
                         (id_array(ids[start:start + ID_CHUNK]),))
    return conn.execute("SELECT count(*) FROM ids").fetchone()[0]


def _id_blocks(conn: sqlite3.Connection, count: int) -> Iterator[tuple[int, list[str]]]:
    """(place of the first, ids) of each BLOCK of the scratch table `ids`, in order."""
    for start in range(0, count, BLOCK):
        rows = conn.execute("SELECT id FROM ids WHERE seq > ? AND seq <= ? ORDER BY seq",
                            (start, start + BLOCK))
        yield start, [pid for (pid,) in rows]


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {folder}: {exc.strerror}") from None


def _export_papers(lib: Library, folder: Path, count: int, loaded: LoadedTemplate, manifest: Manifest,
                   report: ExportReport, dry_run: bool, progress: Progress | None,
                   cancelled: Callable[[], bool] | None) -> int:
    """One file per paper, BLOCK papers at a time (records, highlights, manifest entries and file
    texts of one block held at once; what is per paper, the folder's names and the names chosen,
    is in the scratch database). An export renders every file twice: first only to find a
    template error before anything is written, then to write it. Returns the number of progress
    steps."""
    conn = manifest.conn
    index = FolderIndex.scan(folder, conn)
    _assign_names(lib, conn, count, index, manifest)
    phases = ("preview",) if dry_run else ("check", "write")
    steps = count * len(phases)
    for phase_no, phase in enumerate(phases):
        for start, block in _id_blocks(conn, count):
            chosen = _chosen_names(conn, block)
            plans = _plan_papers(folder, lib.records(block), highlights(lib.conn, block), loaded,
                                 manifest.papers(block), chosen, index, report, cancelled)
            for n, plan in enumerate(plans):  # planned one by one: each written before the next is made
                if progress:
                    progress(phase_no * count + start + n, steps, plan.title)
                if phase == "check":
                    continue
                if phase == "write" and plan.item.action in ("create", "update") and not folder.is_dir():
                    _make_folder(folder)
                _apply(plan, report, manifest, False, dry_run)
            manifest.commit()  # this block's files are written: their rows become durable
            if report.cancelled:
                return steps
    return steps


def _apply(plan: Plan, report: ExportReport, manifest: Manifest, is_list: bool, dry_run: bool) -> None:
    item = plan.item
    if item.action == "skipped":
        report.add(item)
        return
    for conflict in item.conflicts:
        report.warn(f"{item.file}: {conflict}")
    if item.action in ("create", "update") and plan.path is not None:
        if dry_run:
            report.add(item)
            return
        try:
            atomic_write(plan.path, plan.text.encode("utf-8"), plan.old)
        except (OSError, ChangedMeanwhile) as exc:
            item.action, item.reason = "skipped", _os_reason(exc)
            report.add(item)
            return
        item.action = "created" if item.action == "create" else "updated"
    report.add(item)
    if dry_run:
        return
    if is_list:
        manifest.record_list(Entry(item.file, plan.blocks, plan.front), plan.was)
    elif item.paper_id is not None:
        manifest.record_paper(item.paper_id, Entry(item.file, plan.blocks, plan.front), plan.was)


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"could not be written: {exc.strerror or exc}"
    return str(exc) + "; export again to merge the new version"


# -- planning -------------------------------------------------------------------------------------

def _plan_papers(folder: Path, records: list[dict], marks: dict[str, list[dict]], loaded: LoadedTemplate,
                 entries: dict[str, Entry], chosen: dict[str, tuple[str | None, str | None]],
                 index: FolderIndex, report: ExportReport,
                 cancelled: Callable[[], bool] | None) -> Iterator[Plan]:
    """The plan of each paper of one block, in order, made when asked for; a cancel sets
    report.cancelled and ends them. `entries`: the block's manifest entries; `chosen`: its file
    names, or why none (see _assign_names)."""
    names = {pid: name for pid, (name, _problem) in chosen.items() if name is not None}
    contexts = {r["id"]: paper_context(r, marks.get(r["id"], [])) for r in records if r["id"] in names}
    bodies: dict[str, str] | None = None  # the shipped templates render file by file below
    if not loaded.shipped:  # a user's renders a block at once, in its limited child process
        bodies = dict(zip(contexts, loaded.render_many(
            [{"paper": c, "highlights": c["highlights"]} for c in contexts.values()], cancelled),
            strict=False))
    for record in records:
        pid = record["id"]
        if (cancelled and cancelled()) or (bodies is not None and pid in names and pid not in bodies):
            report.cancelled = True  # (a paper missing from bodies: cancelled while rendering)
            return
        if pid not in names:  # no file could be chosen
            held = ", ".join(index.holders([pid]).get(pid, [])) or safe_stem(record["title"])
            reason = chosen.get(pid, (None, None))[1] or "no free file name for this title"
            yield Plan(ExportItem(file=held, paper_id=pid, action="skipped", reason=reason),
                       title=record["title"])
            continue
        entry = entries.get(pid) or Entry()
        context = contexts[pid]
        body = bodies[pid] if bodies is not None else \
            loaded.render(paper=context, highlights=context["highlights"])
        plan = _plan_file(folder, names[pid], pid, front_values(record), body, ("id", pid),
                          loaded, entry.blocks, entry.front)
        plan.title, plan.was = record["title"], entries.get(pid)
        yield plan


def _titles(lib: Library, block: list[str]) -> list[tuple[str, str]]:
    """(id, title) of each paper of `block` in its order (unknown ids left out)."""
    return lib.conn.execute(
        f"SELECT p.id, p.title FROM {ID_ROWS} CROSS JOIN papers AS p ON p.id = j.value ORDER BY j.key",
        (id_array(block),)).fetchall()


def _assign_names(lib: Library, conn: sqlite3.Connection, count: int, index: FolderIndex,
                  manifest: Manifest) -> None:
    """The file for each paper, into the scratch table `names` (pid, file or NULL, why no file or
    NULL): the file that already holds it (even if the user renamed it), else the one the manifest
    remembers, else a new name from the title, made unique in the folder (`claimed`: name_key ->
    the paper whose file it is, every file the manifest knows and every name chosen here).
    Two passes over the ids, BLOCK at a time."""
    conn.execute("CREATE TABLE claimed (key TEXT PRIMARY KEY, pid TEXT NOT NULL) WITHOUT ROWID")
    conn.execute("CREATE TABLE names (pid TEXT PRIMARY KEY, file TEXT, problem TEXT) WITHOUT ROWID")
    claim = "INSERT OR REPLACE INTO claimed VALUES (?, ?)"
    with transaction(conn):
        known = manifest.files()
        while batch := [(name_key(name), pid) for pid, name in itertools.islice(known, BLOCK)]:
            conn.executemany(claim, batch)
    for _start, block in _id_blocks(conn, count):  # first, papers whose file is known
        titled = _titles(lib, block)
        held = index.holders(pid for pid, _title in titled)
        entries = manifest.papers(pid for pid, _title in titled)
        rows: list[tuple[str, str | None, str | None]] = []
        for pid, _title in titled:
            holders = held.get(pid, [])
            remembered = entries[pid].file if pid in entries else None
            if len(holders) == 1:
                name = holders[0]
            elif len(holders) > 1:
                if remembered not in holders:
                    rows.append((pid, None, f"several files hold this paper: {', '.join(holders)}"))
                    continue
                name = remembered
            elif remembered and safe_stem(remembered) == remembered:
                name = remembered
            else:
                continue
            rows.append((pid, name, None))
        with transaction(conn):
            conn.executemany("INSERT INTO names VALUES (?, ?, ?)", rows)
            conn.executemany(claim, [(name_key(name), pid) for pid, name, _problem in rows if name])
    for _start, block in _id_blocks(conn, count):  # then new files, in the order given
        with transaction(conn):
            done = {pid for (pid,) in conn.execute(f"SELECT pid FROM names WHERE pid IN {IDS}",
                                                   (id_array(block),))}
            for pid, title in _titles(lib, block):
                if pid not in done:
                    _choose_new_name(conn, pid, title, index)


def _choose_new_name(conn: sqlite3.Connection, pid: str, title: str, index: FolderIndex) -> None:
    """The first name made from `title` that no file in the folder has and no other paper claims
    (stable for a stable selection); none if a thousand are taken."""
    stem = safe_stem(title)
    candidates = itertools.chain((f"{stem}.md", f"{stem} ({short_id(pid)}).md"),
                                 (f"{stem} ({short_id(pid)}-{k}).md" for k in range(2, 1000)))
    for candidate in candidates:
        key = name_key(candidate)
        if index.taken(key):
            continue
        owner = conn.execute("SELECT pid FROM claimed WHERE key = ?", (key,)).fetchone()
        if owner is None or owner[0] == pid:
            conn.execute("INSERT INTO names VALUES (?, ?, NULL)", (pid, candidate))
            conn.execute("INSERT OR REPLACE INTO claimed VALUES (?, ?)", (key, pid))
            return


def _chosen_names(conn: sqlite3.Connection, block: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """(file, why no file) of the papers of `block` that _assign_names decided."""
    rows = conn.execute(f"SELECT pid, file, problem FROM names WHERE pid IN {IDS}", (id_array(block),))
    return {pid: (name, problem) for pid, name, problem in rows}


def _list_papers(lib: Library, conn: sqlite3.Connection, count: int) -> list[dict]:
    """What a reading list's template sees of each paper, made BLOCK records at a time (the list is
    one text: every paper's context is held, but never beside every paper's record too)."""
    papers = []
    for _start, block in _id_blocks(conn, count):
        marks = highlights(lib.conn, block)
        papers += [paper_context(r, marks.get(r["id"], [])) for r in lib.records(block)]
    return papers


def _plan_list(folder: Path, one_file: str, papers: list[dict], loaded: LoadedTemplate, manifest: Manifest,
               title: str | None, cancelled: Callable[[], bool] | None = None) -> Plan:
    if not one_file.strip() or "/" in one_file or "\\" in one_file or one_file.strip(" .") == "":
        raise ExportError(f"--one-file takes a file name, not a path: {one_file!r}")
    stem = one_file[:-3] if one_file.lower().endswith(".md") else one_file
    name = safe_stem(stem, fallback="reading list") + ".md"
    title = title or stem
    rendered = loaded.render_many([{"title": blocks.neutralize(title), "papers": papers,
                                    "count": len(papers)}], cancelled)
    if not rendered:
        raise ExportError("export cancelled; nothing was written")
    (body,) = rendered
    front: dict[str, Value] = {"paperdesk": LIST_MARK, "title": title, "papers": len(papers)}
    was = manifest.list_entry(name)
    entry = was or Entry()
    plan = _plan_file(folder, name, None, front, body, ("paperdesk", LIST_MARK), loaded, entry.blocks,
                      entry.front)
    plan.was = was
    return plan


def _plan_file(folder: Path, name: str, pid: str | None, front: dict[str, Value], body: str,
               identity: tuple[str, str], loaded: LoadedTemplate, remembered: dict[str, str],
               remembered_front: dict[str, str]) -> Plan:
    try:
        new_blocks = blocks.contents(body)
    except blocks.BlockError as exc:
        raise TemplateProblem(f"template {loaded.name} writes damaged managed blocks: {exc}") from None
    digests = {k: blocks.digest(v) for k, v in new_blocks.items()}
    fingerprints = {k: value_digest(v) for k, v in front.items() if k != identity[0]}
    try:
        path = contained(folder, name)
    except UnsafePath as exc:
        return Plan(ExportItem(name, pid, "skipped", str(exc)))
    if not os.path.lexists(path):
        text = emit_front_matter(front) + "\n" + body
        return Plan(ExportItem(name, pid, "create", changed=["new file"]), path, text, None, digests,
                    fingerprints)
    try:
        old = path.read_bytes()
        old_text = old.decode("utf-8")
        merged = merge(old_text, front, new_blocks, identity, remembered, remembered_front)
    except OSError as exc:
        return Plan(ExportItem(name, pid, "skipped", f"cannot be read: {exc.strerror}"))
    except UnicodeDecodeError:
        return Plan(ExportItem(name, pid, "skipped", "is not UTF-8 text; left alone"))
    except Unmergeable as exc:
        return Plan(ExportItem(name, pid, "skipped", f"{exc}; left alone"))
    # A value the user edited is kept, and its fingerprint stays the one PaperDesk last wrote, so
    # the edit is still known as the user's next time.
    fingerprints.update({k: remembered_front[k] for k in merged.kept})
    action = "unchanged" if merged.text == old_text else "update"
    return Plan(ExportItem(name, pid, action, changed=merged.changed if action == "update" else [],
                           conflicts=merged.conflicts), path, merged.text, old, digests, fingerprints)


@dataclass
class Merged:
    text: str
    changed: list[str]  # managed blocks and front-matter keys that change
    kept: list[str] = field(default_factory=list)  # front-matter keys whose edit in the file is kept
    conflicts: list[str] = field(default_factory=list)  # kept although the library changed too


def _keep_user_edits(doc: Document, front: dict[str, Value], identity_key: str,
                     remembered_front: dict[str, str]) -> tuple[dict[str, Value], list[str], list[str]]:
    """PaperDesk's front-matter keys the user changed in the file since the last export keep the
    user's value (a deleted key comes back with the library's). When the library's value changed
    too, that is a conflict: reported, and still the user's value is kept."""
    front, kept, conflicts = dict(front), [], []
    for key, value in list(front.items()):
        if key == identity_key or key not in remembered_front or doc.entry(key) is None:
            continue
        try:
            in_file = doc.value(key)
        except FrontMatterError:
            continue  # unreadable: PaperDesk writes its value again
        if value_digest(in_file) == remembered_front[key] or in_file == value:
            continue
        kept.append(key)
        front[key] = in_file
        if value_digest(value) != remembered_front[key]:
            conflicts.append(f"front matter {key} was changed in the file and in the library since the "
                             f"last export; kept the file's {_shown(in_file)} (the library has "
                             f"{_shown(value)}; delete the line to take the library's)")
    return front, kept, conflicts


def _shown(value: Value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return repr(value)


def merge(old_text: str, front: dict[str, Value], new_blocks: dict[str, str], identity: tuple[str, str],
          remembered: dict[str, str], remembered_front: dict[str, str] | None = None) -> Merged:
    """`old_text` with PaperDesk's front-matter keys and managed blocks brought up to date and every
    other byte kept (and the user's edits of PaperDesk's keys, see _keep_user_edits); raise
    Unmergeable when that cannot be done safely."""
    try:
        doc = split_document(old_text)
    except FrontMatterError as exc:
        raise Unmergeable(str(exc)) from None
    key, expected = identity
    try:
        found = doc.value(key)
    except FrontMatterError as exc:
        raise Unmergeable(str(exc)) from None
    if found != expected:
        raise Unmergeable(f"its front matter has {key}: {found!r}, not {expected!r}"
                          if found is not None else "it was not written by PaperDesk")
    try:
        old_blocks = blocks.contents(doc.body)
    except blocks.BlockError as exc:
        raise Unmergeable(str(exc)) from None
    missing = [n for n in new_blocks if n not in old_blocks]
    if missing:
        raise Unmergeable(f"managed block {', '.join(missing)} was removed (its markers are gone)")
    extra = [n for n in old_blocks if n not in new_blocks]
    if extra:
        raise Unmergeable(f"it has managed block {', '.join(extra)} that the template does not write")
    changed, replacements = [], {}
    for block_name, new in new_blocks.items():
        old = old_blocks[block_name]
        if blocks.normalized(old) == blocks.normalized(new):
            continue
        if block_name in remembered and blocks.digest(old) != remembered[block_name]:
            raise Unmergeable(f"text inside the managed block {block_name!r} was edited; move your text "
                              f"outside the paperdesk markers (or undo the edit) to export it again")
        replacements[block_name] = new
        changed.append(block_name)
    front, kept, conflicts = _keep_user_edits(doc, front, key, remembered_front or {})
    for front_key, value in front.items():
        try:
            same = doc.entry(front_key) is not None and doc.value(front_key) == value
        except FrontMatterError:
            same = False
        if not same:
            changed.append(f"front matter {front_key}")
    doc.body = blocks.replace_blocks(doc.body, replacements, doc.newline)
    return Merged(doc.text(merge_front_matter(doc, front)), changed, kept, conflicts)
