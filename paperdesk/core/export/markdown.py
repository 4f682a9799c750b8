"""Markdown export: one file per paper, or one reading-list file, merged safely into what is there.

Planning renders a file and merges it with the file on disk; writing applies the plan atomically,
re-checking that no editor saved the file in between. One file per paper goes BLOCK papers at a
time (records, highlights and texts of one block in memory), in two passes: the first plans every
file and writes nothing (so a template error stops the export before any change), the second plans
each file again and writes it. A dry run is the first pass, reported. A reading list (one file of
all the papers) is one text: its papers' contexts are made a block at a time, then rendered at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from paperdesk.core.export import blocks
from paperdesk.core.export.data import front_values, highlights, paper_context, value_digest
from paperdesk.core.export.filenames import UnsafePath, contained, name_key, safe_stem, short_id
from paperdesk.core.export.files import ChangedMeanwhile, FolderIndex, Manifest, atomic_write
from paperdesk.core.export.frontmatter import (
    Document,
    FrontMatterError,
    Value,
    emit_front_matter,
    merge_front_matter,
    split_document,
)
from paperdesk.core.export.report import ExportError, ExportItem, ExportReport
from paperdesk.core.export.templates import LoadedTemplate, TemplateProblem, load_template
from paperdesk.core.idlist import ID_ROWS, id_array

if TYPE_CHECKING:
    from paperdesk.core.library import Library, Progress

LIST_MARK = "reading-list"
BLOCK = 500  # papers read, rendered and planned at a time, so memory stays bounded however many


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
    ids = list(dict.fromkeys(ids))
    manifest = Manifest.load(folder)
    report = ExportReport(folder=str(folder), dry_run=dry_run)
    if manifest.problem:
        report.warnings.append(manifest.problem)
    try:
        if one_file is not None:  # one file of every paper: its template sees them all at once
            papers = _list_papers(lib, ids)
            plan = _plan_list(folder, one_file, papers, loaded, manifest, title, cancelled)
            if not dry_run and plan.item.action in ("create", "update"):
                _make_folder(folder)
            report.cancelled = bool(cancelled and cancelled())
            if not report.cancelled:
                _apply(plan, report, manifest, True, dry_run)
            steps = len(papers)
        else:
            steps = _export_papers(lib, folder, ids, loaded, manifest, report, dry_run, progress, cancelled)
    except TemplateProblem as exc:
        raise ExportError(str(exc)) from None
    if not dry_run and (report.written or report.unchanged):
        try:
            manifest.save(folder)
        except (OSError, ChangedMeanwhile) as exc:
            report.warnings.append(f"could not save the export manifest: {exc}")
    if progress:
        progress(steps, steps, "")
    return report


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {folder}: {exc.strerror}") from None


def _export_papers(lib: Library, folder: Path, ids: list[str], loaded: LoadedTemplate, manifest: Manifest,
                   report: ExportReport, dry_run: bool, progress: Progress | None,
                   cancelled: Callable[[], bool] | None) -> int:
    """One file per paper, BLOCK papers at a time (records, highlights and file texts of one block
    held at once). An export renders every file twice: first only to find a template error before
    anything is written, then to write it. Returns the number of progress steps."""
    index = FolderIndex.scan(folder)
    names, problems = _assign_names(lambda: _titles(lib, ids), index, manifest)
    phases = ("preview",) if dry_run else ("check", "write")
    steps = len(ids) * len(phases)
    for phase_no, phase in enumerate(phases):
        for start in range(0, len(ids), BLOCK):
            block = ids[start:start + BLOCK]
            plans = _plan_papers(folder, lib.records(block), highlights(lib.conn, block), loaded, manifest,
                                 names, problems, index, report, cancelled)
            for n, plan in enumerate(plans):  # planned one by one: each written before the next is made
                if progress:
                    progress(phase_no * len(ids) + start + n, steps, plan.title)
                if phase == "check":
                    continue
                if phase == "write" and plan.item.action in ("create", "update") and not folder.is_dir():
                    _make_folder(folder)
                _apply(plan, report, manifest, False, dry_run)
            if report.cancelled:
                return steps
    return steps


def _apply(plan: Plan, report: ExportReport, manifest: Manifest, is_list: bool, dry_run: bool) -> None:
    item = plan.item
    if item.action == "skipped":
        report.skipped.append(item)
        return
    report.warnings += [f"{item.file}: {conflict}" for conflict in item.conflicts]
    if item.action in ("create", "update") and plan.path is not None:
        if dry_run:
            report.would_change.append(item)
            return
        try:
            atomic_write(plan.path, plan.text.encode("utf-8"), plan.old)
        except (OSError, ChangedMeanwhile) as exc:
            item.action, item.reason = "skipped", _os_reason(exc)
            report.skipped.append(item)
            return
        item.action = "created" if item.action == "create" else "updated"
        report.written.append(item)
    else:
        report.unchanged.append(item)
    if is_list:
        manifest.lists[item.file] = {"blocks": plan.blocks, "front": plan.front}
    elif item.paper_id is not None:
        manifest.papers[item.paper_id] = {"file": item.file, "blocks": plan.blocks, "front": plan.front}


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"could not be written: {exc.strerror or exc}"
    return str(exc) + "; export again to merge the new version"


# -- planning -------------------------------------------------------------------------------------

def _plan_papers(folder: Path, records: list[dict], marks: dict[str, list[dict]], loaded: LoadedTemplate,
                 manifest: Manifest, names: dict[str, str], problems: dict[str, str], index: FolderIndex,
                 report: ExportReport, cancelled: Callable[[], bool] | None) -> Iterator[Plan]:
    """The plan of each paper of one block, in order, made when asked for; a cancel sets
    report.cancelled and ends them."""
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
            held = ", ".join(index.by_id.get(pid, [])) or safe_stem(record["title"])
            reason = problems.get(pid, "no free file name for this title")
            yield Plan(ExportItem(file=held, paper_id=pid, action="skipped", reason=reason),
                       title=record["title"])
            continue
        entry = manifest.papers.get(pid)
        context = contexts[pid]
        body = bodies[pid] if bodies is not None else \
            loaded.render(paper=context, highlights=context["highlights"])
        plan = _plan_file(folder, names[pid], pid, front_values(record), body, ("id", pid),
                          loaded, manifest.blocks_of(entry), manifest.front_of(entry))
        plan.title = record["title"]
        yield plan


def _titles(lib: Library, ids: list[str]) -> Iterator[tuple[str, str]]:
    """(id, title) of each paper of `ids` in their order (unknown ids left out), read BLOCK at a time."""
    for start in range(0, len(ids), BLOCK):
        yield from lib.conn.execute(
            f"SELECT p.id, p.title FROM {ID_ROWS} CROSS JOIN papers AS p ON p.id = j.value ORDER BY j.key",
            (id_array(ids[start:start + BLOCK]),))


def _assign_names(papers: Callable[[], Iterable[tuple[str, str]]], index: FolderIndex,
                  manifest: Manifest) -> tuple[dict[str, str], dict[str, str]]:
    """The file for each paper: the file that already holds it (even if the user renamed it), else
    the one the manifest remembers, else a new name from the title, made unique in the folder.
    `papers` gives (id, title) pairs afresh on each call. Returns (names, why no name) by paper id."""
    taken = {name_key(n) for n in index.names}
    claimed = {name_key(f): pid for pid in manifest.papers if (f := manifest.file_of(pid))}
    names: dict[str, str] = {}
    problems: dict[str, str] = {}
    for pid, _title in papers():  # first, papers whose file is known
        holders = index.by_id.get(pid, [])
        remembered = manifest.file_of(pid)
        if len(holders) == 1:
            names[pid] = holders[0]
        elif len(holders) > 1:
            if remembered not in holders:
                problems[pid] = f"several files hold this paper: {', '.join(holders)}"
                continue
            names[pid] = remembered
        elif remembered and safe_stem(remembered) == remembered:
            names[pid] = remembered
        else:
            continue
        claimed[name_key(names[pid])] = pid
    for pid, title in papers():  # then new files, in the order given (stable for a stable selection)
        if pid in names or pid in problems:
            continue
        stem = safe_stem(title)
        candidates = [f"{stem}.md", f"{stem} ({short_id(pid)}).md"]
        candidates += [f"{stem} ({short_id(pid)}-{k}).md" for k in range(2, 1000)]
        for candidate in candidates:
            key = name_key(candidate)
            if key not in taken and claimed.get(key, pid) == pid:
                names[pid] = candidate
                claimed[key] = pid
                break
    return names, problems


def _list_papers(lib: Library, ids: list[str]) -> list[dict]:
    """What a reading list's template sees of each paper, made BLOCK records at a time (the list is
    one text: every paper's context is held, but never beside every paper's record too)."""
    papers = []
    for start in range(0, len(ids), BLOCK):
        block = ids[start:start + BLOCK]
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
    entry = manifest.lists.get(name)
    return _plan_file(folder, name, None, front, body, ("paperdesk", LIST_MARK), loaded,
                      manifest.blocks_of(entry), manifest.front_of(entry))


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
