"""Markdown export into a real folder: safe re-export, unmergeable files, dry runs, hostile titles."""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from export_support import (
    add_highlight,
    add_papers,
    assert_portable_name,
    insert_raw_paper,
    set_note,
    snapshot,
)

from paperdesk.cli.export_cmds import cmd_markdown
from paperdesk.core.export import ExportError, export_markdown, markdown
from paperdesk.core.export import report as report_module
from paperdesk.core.export.blocks import find_blocks
from paperdesk.core.export.frontmatter import split_document
from paperdesk.core.export.manifest import MANIFEST_NAME, OLD_MANIFEST_NAME
from paperdesk.core.records import IncomingPaper

MARKERS = re.compile(r"<!-- paperdesk:begin (\S+) -->.*?<!-- paperdesk:end \1 -->", re.S)


@pytest.fixture
def two(lib):
    """Two papers: one with an arXiv id, authors, a tag, a note and a highlight; one bare."""
    ids = add_papers(lib, [
        IncomingPaper(title="Scaling Laws: A Study", abstract="We study scaling. Bigger is better, mostly.",
                      authors=["Ada Lovelace", "Alan Turing"], published="2024-05-01", upvotes=12,
                      arxiv_id="2405.00001"),
        IncomingPaper(title="A Bare Paper", abstract="Nothing much.", organization="Acme Lab"),
    ])
    lib.tag([ids[0]], ["llm"])
    set_note(lib, ids[0], "First thoughts.")
    add_highlight(lib, ids[0], "Bigger is better", "really?")
    return ids


def file_of(folder: Path, paper_id: str) -> Path:
    with closing(sqlite3.connect(folder / MANIFEST_NAME)) as manifest:
        (name,) = manifest.execute("SELECT file FROM papers WHERE id = ?", (paper_id,)).fetchone()
    return folder / name


# The front-matter keys PaperDesk owns in a paper's file.
PAPER_KEYS = ("id", "title", "arxiv_id", "url", "authors", "organization", "published", "upvotes",
              "tags", "starred", "status", "sources")


def skeleton(text: str) -> str:
    """The user's part of a file: managed blocks and PaperDesk's front-matter keys blanked out."""
    doc = split_document(text)
    user_lines = [ln for e in doc.entries if e.key not in PAPER_KEYS for ln in e.lines]
    return "\n".join(user_lines) + "\n=====\n" + MARKERS.sub("<managed>", doc.body)


def test_first_export_writes_front_matter_blocks_and_manifest(lib, two, tmp_path):
    out = tmp_path / "notes"
    report = export_markdown(lib, out, two)
    assert [i.action for i in report.written] == ["created", "created"] and report.ok
    text = file_of(out, two[0]).read_text(encoding="utf-8")
    doc = split_document(text)
    assert doc.value("id") == two[0] and doc.value("arxiv_id") == "2405.00001"
    assert doc.value("title") == "Scaling Laws: A Study"
    assert doc.value("authors") == ["Ada Lovelace", "Alan Turing"]
    assert doc.value("tags") == ["llm"] and doc.value("starred") is False
    assert doc.value("upvotes") == 12 and doc.value("published") == "2024-05-01"
    assert doc.value("url") == "https://arxiv.org/abs/2405.00001"
    assert doc.value("sources") == ["digest: test-batch (2026-11-20)"]
    assert [e.key for e in doc.entries] == ["id", "title", "arxiv_id", "url", "authors", "organization",
                                            "published", "upvotes", "tags", "starred", "status", "sources"]
    assert set(find_blocks(doc.body)) == {"title", "meta", "abstract", "highlights", "note"}
    assert "> Bigger is better\n\nreally?" in text and "First thoughts." in text
    assert "[Open the paper](https://arxiv.org/abs/2405.00001)" in text
    assert file_of(out, two[1]).name == "A Bare Paper.md"
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_round_trip_keeps_user_edits_byte_for_byte_and_updates_managed_content(lib, two, tmp_path):
    out = tmp_path / "vault"
    export_markdown(lib, out, two)
    path = file_of(out, two[0])
    original = path.read_text(encoding="utf-8")
    # the user edits outside the blocks, adds front-matter keys (one Obsidian-style list, one comment)
    edited = original.replace("---\n\n<!-- paperdesk:begin title -->",
                              "aliases:\n  - scaling study\nrating: 5   # my own\n# kept comment\n---\n"
                              "Read for the reading group.\n\n<!-- paperdesk:begin title -->", 1)
    edited = edited.replace("## Abstract\n", "## Abstract\n\nMy summary *before* the abstract.\n", 1)
    edited += "These are my notes.\n\n- [ ] reproduce figure 2\n"
    assert edited != original
    path.write_bytes(edited.encode("utf-8"))
    # the paper changes in the library
    lib.untag([two[0]], ["llm"])
    lib.tag([two[0]], ["scaling"])
    lib.star([two[0]])
    set_note(lib, two[0], "Second thoughts: the curve bends.")
    add_highlight(lib, two[0], "We study scaling", "")

    report = export_markdown(lib, out, two)
    assert [(i.paper_id, i.action) for i in report.written] == [(two[0], "updated")]
    assert [i.paper_id for i in report.unchanged] == [two[1]] and report.ok
    changed = set(report.written[0].changed)
    assert {"note", "highlights", "front matter tags", "front matter starred"} <= changed
    assert "abstract" not in report.written[0].changed
    after = path.read_text(encoding="utf-8")
    assert skeleton(after) == skeleton(edited)  # every byte the user wrote is where it was
    for piece in ("aliases:\n  - scaling study\nrating: 5   # my own\n# kept comment\n",
                  "Read for the reading group.\n", "My summary *before* the abstract.\n",
                  "These are my notes.\n\n- [ ] reproduce figure 2\n"):
        assert piece in after
    doc = split_document(after)
    assert doc.value("tags") == ["scaling"] and doc.value("starred") is True and doc.value("rating") == 5
    assert "Second thoughts: the curve bends." in after and "First thoughts." not in after
    assert "> We study scaling" in after
    # a third export changes nothing
    again = export_markdown(lib, out, two)
    assert not again.written and len(again.unchanged) == 2
    assert path.read_text(encoding="utf-8") == after


def test_crlf_file_and_renamed_file_are_still_merged(lib, two, tmp_path):
    out = tmp_path / "vault"
    export_markdown(lib, out, two)
    path = file_of(out, two[0])
    text = path.read_text(encoding="utf-8").replace("\n", "\r\n") + "user line\r\n"
    renamed = out / "My scaling paper.md"  # the user renamed the note in Obsidian
    renamed.write_bytes(text.encode("utf-8"))
    path.unlink()
    set_note(lib, two[0], "changed")
    report = export_markdown(lib, out, two)
    assert [i.file for i in report.written] == ["My scaling paper.md"]
    result = renamed.read_bytes().decode("utf-8")
    assert "\r\nchanged\r\n" in result and result.endswith("## My notes\r\n\r\nuser line\r\n")
    assert "\n" not in result.replace("\r\n", "")
    assert not path.exists()


@pytest.mark.parametrize("damage, reason", [
    (lambda t: t.replace("<!-- paperdesk:end abstract -->", ""), "no end marker"),
    (lambda t: t.replace("<!-- paperdesk:begin note -->", "<!-- paperdesk:begin note"), "damaged"),
    (lambda t: MARKERS.sub("", t, count=3).replace("<!-- paperdesk:begin note -->", "")
        .replace("<!-- paperdesk:end note -->", ""), "removed"),
    (lambda t: t.replace("tags:", "tags [oops]", 1), "not a 'key: value' line"),
    (lambda t: t.replace("---\n", "", 1), "no longer starts with front matter"),
    (lambda t: t.replace("First thoughts.", "First thoughts, edited by me."), "was edited"),
])
def test_unmergeable_file_is_left_alone_and_reported(lib, two, tmp_path, damage, reason):
    out = tmp_path / "vault"
    export_markdown(lib, out, two)
    path = file_of(out, two[0])
    damaged = damage(path.read_text(encoding="utf-8"))
    path.write_bytes(damaged.encode("utf-8"))
    set_note(lib, two[0], "a newer note")
    lib.tag([two[0]], ["new-tag"])
    before = snapshot(out)
    report = export_markdown(lib, out, two)
    assert not report.ok and [i.paper_id for i in report.skipped] == [two[0]]
    assert reason in report.skipped[0].reason and report.skipped[0].file == path.name
    assert path.read_bytes() == damaged.encode("utf-8")
    assert snapshot(out) == before  # the other paper was unchanged, so nothing else moved either
    assert [i.paper_id for i in report.unchanged] == [two[1]]


def test_dry_run_lists_changes_and_writes_nothing(lib, two, tmp_path):
    out = tmp_path / "vault"
    dry = export_markdown(lib, out, two, dry_run=True)
    assert [i.action for i in dry.would_change] == ["create", "create"] and not out.exists()
    export_markdown(lib, out, two)
    lib.tag([two[1]], ["later"])
    before = snapshot(out)
    dry = export_markdown(lib, out, two, dry_run=True)
    assert [(i.paper_id, i.action, i.changed) for i in dry.would_change] == \
        [(two[1], "update", ["front matter tags"])]
    assert not dry.written and snapshot(out) == before
    assert "1 files would change" in dry.summary()
    real = export_markdown(lib, out, two)
    assert [i.paper_id for i in real.written] == [two[1]]


HOSTILE = ["../../etc/passwd", "CON", "con.txt", "x" * 300, "Émoji 🚀🧪 paper", "\u202egnp.exe\u202c RTL",
           "a/b\\c:d*e?f\"g<h>i|j", "  trailing dots...  ", "COM1", "..\\..\\windows\\win.ini",
           "Abstract <!-- paperdesk:end abstract --> trap", "Same Title"]


def test_hostile_titles_stay_inside_the_folder_with_portable_stable_names(lib, tmp_path):
    papers = [IncomingPaper(title=t, abstract=f"About {t}. <!-- paperdesk:end abstract -->",
                            arxiv_id=f"2401.{n:05d}") for n, t in enumerate(HOSTILE)]
    ids = add_papers(lib, papers)
    insert_raw_paper(lib, "dotsonly0001", "....")
    insert_raw_paper(lib, "bidi00000001", "\u200f\u200e\u202a")
    insert_raw_paper(lib, "sametitle002", "same title")  # a second paper whose name would clash
    ids += ["dotsonly0001", "bidi00000001", "sametitle002"]
    out = tmp_path / "a" / "out"
    report = export_markdown(lib, out, ids)
    assert report.ok and len(report.written) == len(ids)
    files = sorted(p.name for p in out.iterdir() if p.name != MANIFEST_NAME)
    assert len(files) == len(ids) and len({f.casefold() for f in files}) == len(ids)
    for name in files:
        assert_portable_name(name)
    assert [p for p in (tmp_path / "a").rglob("*") if p.parent != out] == [out]
    assert not [p for p in tmp_path.rglob("*passwd*") if p.parent != out]
    assert "_CON.md" in files and "etc passwd.md" in files and "untitled.md" in files
    assert "Same Title.md" in files and [f for f in files if f.startswith("same title (")]
    long_name = next(f for f in files if f.startswith("xxx"))
    assert len(long_name) <= 110
    # hostile text in an abstract cannot break the managed blocks: the re-export merges cleanly
    lib.tag(ids, ["again"])
    second = export_markdown(lib, out, ids)
    assert second.ok and len(second.written) == len(ids)
    assert sorted(p.name for p in out.iterdir() if p.name != MANIFEST_NAME) == files
    # without the manifest the same names are found again (from the ids in the front matter)
    (out / MANIFEST_NAME).unlink()
    third = export_markdown(lib, out, ids)
    assert third.ok and len(third.unchanged) == len(ids)


def test_a_tampered_manifest_cannot_send_writes_outside(lib, two, tmp_path):
    out = tmp_path / "vault"
    out.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_text("precious", encoding="utf-8")
    (out / "link.md").symlink_to(outside)
    manifest = {"version": 1, "papers": {two[0]: {"file": "link.md", "blocks": {}},
                                          two[1]: {"file": "../outside.md", "blocks": {}}}}
    (out / OLD_MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")  # read as an old one
    report = export_markdown(lib, out, two)
    assert outside.read_text(encoding="utf-8") == "precious"
    assert [i.paper_id for i in report.skipped] == [two[0]] and "symbolic link" in report.skipped[0].reason
    assert [i.file for i in report.written] == ["A Bare Paper.md"]


def test_a_file_of_the_user_with_the_same_name_is_not_touched(lib, two, tmp_path):
    out = tmp_path / "vault"
    out.mkdir()
    mine = out / "A Bare Paper.md"
    mine.write_text("my own file\n", encoding="utf-8")
    report = export_markdown(lib, out, [two[1]])
    assert mine.read_text(encoding="utf-8") == "my own file\n"
    assert [i.file for i in report.written] == [f"A Bare Paper ({two[1][:8]}).md"]


def test_reading_list_one_file_is_merged_too(seeded, tmp_path):
    lib = seeded
    ids = lib.paper_ids(limit=5)
    lib.tag(ids[:2], ["week"])
    out = tmp_path / "lists"
    report = export_markdown(lib, out, lib.paper_ids(tag="week"), one_file="This week.md", title="Tag: week")
    assert [i.file for i in report.written] == ["This week.md"]
    path = out / "This week.md"
    text = path.read_text(encoding="utf-8")
    doc = split_document(text)
    assert doc.value("paperdesk") == "reading-list" and doc.value("papers") == 2
    assert text.count("\n## ") == 2 and "# Tag: week" in text
    path.write_text(text + "\nDiscuss on Friday.\n", encoding="utf-8")
    lib.tag([ids[2]], ["week"])
    again = export_markdown(lib, out, lib.paper_ids(tag="week"), one_file="This week", title="Tag: week")
    assert [i.action for i in again.written] == ["updated"]
    text = path.read_text(encoding="utf-8")
    assert text.count("\n## ") == 3 and text.endswith("\nDiscuss on Friday.\n")
    assert split_document(text).value("papers") == 3
    with pytest.raises(ExportError, match="file name, not a path"):
        export_markdown(lib, out, ids, one_file="../escape.md")
    other = out / "Notes.md"
    other.write_text("---\ntitle: mine\n---\nhello\n", encoding="utf-8")
    refused = export_markdown(lib, out, ids, one_file="Notes")
    assert "not written by PaperDesk" in refused.skipped[0].reason
    assert other.read_text(encoding="utf-8") == "---\ntitle: mine\n---\nhello\n"


def test_user_template_from_config_dir_is_sandboxed(lib, two, tmp_path, monkeypatch):
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    from paperdesk.core.export.templates import user_templates_dir

    templates = user_templates_dir()
    templates.mkdir(parents=True)
    (templates / "short.md.j2").write_text(
        "<!-- paperdesk:begin gist -->\n{{ paper.title | upper }} / {{ paper.tags | join(',') }}\n"
        "<!-- paperdesk:end gist -->\n\nMine below.\n", encoding="utf-8")
    out = tmp_path / "vault"
    report = export_markdown(lib, out, [two[0]], template="short")
    text = (out / report.written[0].file).read_text(encoding="utf-8")
    assert "SCALING LAWS: A STUDY / llm" in text and text.endswith("Mine below.\n")

    (templates / "evil.md.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8")
    with pytest.raises(ExportError, match="evil"):
        export_markdown(lib, tmp_path / "evil", two, template="evil")
    (templates / "broken.md.j2").write_text("<!-- paperdesk:begin x -->\n{{ paper.title }}\n",
                                            encoding="utf-8")
    with pytest.raises(ExportError, match="damaged managed blocks"):
        export_markdown(lib, tmp_path / "broken", two, template="broken")
    (templates / "typo.md.j2").write_text("{{ paper.titel }}", encoding="utf-8")
    with pytest.raises(ExportError, match="titel"):
        export_markdown(lib, tmp_path / "typo", two, template="typo")
    with pytest.raises(ExportError, match="no template"):
        export_markdown(lib, tmp_path / "none", two, template="missing")
    assert not (tmp_path / "evil").exists() and not (tmp_path / "broken").exists()


@pytest.mark.parametrize("block", [4, 500])
def test_progress_and_cancel(seeded, tmp_path, monkeypatch, block):
    monkeypatch.setattr(markdown, "BLOCK", block)
    ids = seeded.paper_ids(limit=30)
    seen: list[tuple[int, int]] = []
    report = export_markdown(seeded, tmp_path / "out", ids, progress=lambda d, t, n: seen.append((d, t)))
    # every paper counts twice: rendered to check the template, then rendered again and written
    assert seen[0] == (0, 60) and seen[-1] == (60, 60) and len(report.written) == 30
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)
    # cancelled while preparing: nothing is written
    calls = iter(range(1000))
    early = export_markdown(seeded, tmp_path / "out2", ids, cancelled=lambda: next(calls) >= 10)
    assert early.cancelled and not early.written and not (tmp_path / "out2").exists()
    # cancelled while writing (30 checks while checking, then one per file): what is written stays
    calls = iter(range(1000))
    late = export_markdown(seeded, tmp_path / "out3", ids, cancelled=lambda: next(calls) >= 40)
    assert late.cancelled and len(late.written) == 10
    assert len([p for p in (tmp_path / "out3").iterdir() if p.suffix == ".md"]) == 10
    assert sorted(manifest_rows(tmp_path / "out3")) == sorted(i.paper_id for i in late.written)


def test_a_report_keeps_the_first_items_and_counts_them_all(seeded, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(report_module, "LISTED", 4)
    ids = seeded.paper_ids(limit=10)
    report = export_markdown(seeded, tmp_path / "out", ids)
    assert [i.paper_id for i in report.written] == ids[:4] and report.count("written") == 10
    assert report.summary().startswith("10 created, 0 updated, 0 unchanged")
    assert report.to_json()["counts"]["created"] == 10
    seeded.tag(ids, ["later"])
    dry = export_markdown(seeded, tmp_path / "out", ids, dry_run=True)
    assert len(dry.would_change) == 4 and dry.unlisted("would_change") == 6
    assert dry.summary().startswith("dry run: 10 files would change")
    # the command prints the kept items and how many more there were
    args = argparse.Namespace(library=seeded.folder, folder=str(tmp_path / "out"), query=None, tag="later",
                              one_file=None, template=None, dry_run=False, json=False)
    assert cmd_markdown(args) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 6 and printed[4] == "… and 6 more"
    assert printed[5].startswith("0 created, 10 updated")


def test_export_folder_that_is_a_file_is_refused(lib, two, tmp_path):
    target = tmp_path / "file.md"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(ExportError, match="is a file"):
        export_markdown(lib, target, two)
    assert target.read_text(encoding="utf-8") == "x"


def test_written_files_get_normal_permissions(lib, two, tmp_path):
    out = tmp_path / "vault"
    export_markdown(lib, out, two)
    path = file_of(out, two[0])
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    path.chmod(0o600)
    set_note(lib, two[0], "x")
    export_markdown(lib, out, two)
    assert path.stat().st_mode & 0o777 == 0o600


def test_notes_and_highlights_made_with_the_annotations_api(lib, two, tmp_path):

    lib.notes.set(two[1], "Written in the desk.")
    hid, _ = lib.highlights.add_quote(two[1], "Nothing much", comment="honest")
    out = tmp_path / "vault"
    export_markdown(lib, out, [two[1]])
    text = file_of(out, two[1]).read_text(encoding="utf-8")
    assert "Written in the desk." in text and "> Nothing much\n\nhonest" in text
    lib.highlights.update(hid, comment="very honest")
    report = export_markdown(lib, out, [two[1]])
    assert report.written[0].changed == ["highlights"]
    assert "> Nothing much\n\nvery honest" in file_of(out, two[1]).read_text(encoding="utf-8")


# -- streamed in blocks ---------------------------------------------------------------------------

def export_twice(lib, ids, out, monkeypatch, block):
    """A dry run, an export, the user's edits and a re-export, BLOCK papers at a time: every file's
    bytes and every report (its folder left out)."""
    monkeypatch.setattr(markdown, "BLOCK", block)
    reports = [export_markdown(lib, out, ids, dry_run=True), export_markdown(lib, out, ids)]
    edited = out / reports[1].written[4].file
    edited.write_text(edited.read_text(encoding="utf-8") + "\nMy own line.\n", encoding="utf-8")
    lib.tag(ids[3:9], ["later"])  # the library changes too: a re-export updates files
    reports.append(export_markdown(lib, out, ids))
    lib.untag(ids[3:9], ["later"])
    return snapshot(out), [{**r.to_json(), "folder": ""} for r in reports]


@pytest.mark.parametrize("block", [1, 3])
def test_streamed_blocks_write_what_one_block_writes(seeded, tmp_path, monkeypatch, block):
    ids = seeded.paper_ids(limit=40)
    same = [f"same{n}" for n in range(3)]
    for pid in same:  # the importer would merge them: one title, three papers
        insert_raw_paper(seeded, pid, "Same title")
    ids = same[:1] + ids + same[1:] + ids[:2]  # same titles in different blocks, and repeats
    with_abstract = next(i for i in ids if seeded.get(i)["abstract"])
    add_highlight(seeded, with_abstract, seeded.get(with_abstract)["abstract"][:30], "worth it")
    set_note(seeded, ids[7], "# Mine\nA note.")
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "Same title.md").write_text("someone else's\n", encoding="utf-8")  # taken name
    (tmp_path / "streamed").mkdir()
    (tmp_path / "streamed" / "Same title.md").write_text("someone else's\n", encoding="utf-8")
    whole = export_twice(seeded, ids, tmp_path / "one", monkeypatch, 10_000)
    streamed = export_twice(seeded, ids, tmp_path / "streamed", monkeypatch, block)
    assert streamed == whole
    files, reports = streamed
    assert len([f for f in files if f.startswith("Same title (")]) == 3
    assert len(reports[1]["written"]) == 43 and len(reports[2]["written"]) == 6  # the tagged papers
    assert sum(text.endswith(b"\nMy own line.\n") for text in files.values()) == 1  # the user's edit kept


def test_a_template_error_in_a_late_block_writes_nothing(lib, tmp_path, monkeypatch):
    monkeypatch.setattr(markdown, "BLOCK", 2)
    ids = add_papers(lib, [IncomingPaper(title=f"Paper {n}") for n in range(5)])
    template = tmp_path / "late.md.j2"
    template.write_text("<!-- paperdesk:begin t -->\n{% if paper.title == 'Paper 4' %}{{ paper.titel }}"
                        "{% endif %}{{ paper.title }}\n<!-- paperdesk:end t -->\n", encoding="utf-8")
    with pytest.raises(ExportError, match="titel"):
        export_markdown(lib, tmp_path / "vault", ids, template=str(template))
    assert not (tmp_path / "vault").exists()
    report = export_markdown(lib, tmp_path / "vault", ids[:4], template=str(template))
    assert len(report.written) == 4  # a user's template renders block by block in its child


def test_a_reading_list_read_in_blocks_is_the_same_file(seeded, tmp_path, monkeypatch):
    ids = seeded.paper_ids(limit=9)
    with_abstract = [i for i in ids if seeded.get(i)["abstract"]][:2]
    for pid in with_abstract:
        add_highlight(seeded, pid, seeded.get(pid)["abstract"][:25], "see this")
    files = []
    for block in (10_000, 2):
        monkeypatch.setattr(markdown, "BLOCK", block)
        out = tmp_path / f"list-{block}"
        report = export_markdown(seeded, out, ids + ids[:1], one_file="Week", title="This week")
        assert len(report.written) == 1
        files.append(snapshot(out))
    assert files[0] == files[1] and files[0]["Week.md"].count(b"see this") == 2


# -- the manifest (SQLite, one row per paper) -----------------------------------------------------

def as_old_manifest(out: Path) -> None:
    """Turn the folder's manifest into the JSON one PaperDesk wrote before (same rows)."""
    with closing(sqlite3.connect(out / MANIFEST_NAME)) as conn:
        papers = {pid: {"file": name, "blocks": json.loads(blocks), "front": json.loads(front)}
                  for pid, name, blocks, front in conn.execute("SELECT * FROM papers ORDER BY id")}
    (out / MANIFEST_NAME).unlink()
    (out / OLD_MANIFEST_NAME).write_text(json.dumps({"version": 1, "papers": papers, "lists": {}}, indent=1),
                                         encoding="utf-8")


def test_an_old_json_manifest_is_converted_and_the_users_edits_are_still_known(lib, two, tmp_path):
    out = tmp_path / "vault"
    export_markdown(lib, out, two)
    first, second = file_of(out, two[0]), file_of(out, two[1])
    as_old_manifest(out)
    # the user edits a PaperDesk value in one file and text inside a managed block in the other
    first.write_text(first.read_text(encoding="utf-8").replace("status: inbox", "status: reading"),
                     encoding="utf-8")
    edited = second.read_text(encoding="utf-8").replace("Nothing much.", "Nothing much, I think.")
    second.write_text(edited, encoding="utf-8")
    lib.tag(two, ["later"])  # and the library changes both papers
    dry = export_markdown(lib, out, two, dry_run=True)  # a preview reads the old manifest, writes nothing
    assert [i.paper_id for i in dry.skipped] == [two[1]]
    assert (out / OLD_MANIFEST_NAME).exists() and not (out / MANIFEST_NAME).exists()

    report = export_markdown(lib, out, two)
    # without the old manifest's fingerprints the edit in the file would be taken for PaperDesk's
    # own old value and overwritten, and the edited block replaced
    doc = split_document(first.read_text(encoding="utf-8"))
    assert doc.value("status") == "reading" and doc.value("tags") == ["later", "llm"]
    assert [i.paper_id for i in report.written] == [two[0]] and report.warnings == []
    assert [i.paper_id for i in report.skipped] == [two[1]] and "was edited" in report.skipped[0].reason
    assert second.read_text(encoding="utf-8") == edited
    assert not (out / OLD_MANIFEST_NAME).exists() and file_of(out, two[0]) == first  # converted
    lib.archive([two[0]])  # next time, from the converted manifest: still the user's value, now a conflict
    again = export_markdown(lib, out, two)
    assert split_document(first.read_text(encoding="utf-8")).value("status") == "reading"
    assert len(again.warnings) == 1 and "kept the file's 'reading'" in again.warnings[0]


def test_an_unchanged_re_export_leaves_the_manifest_file_as_it_was(lib, two, tmp_path):
    out = tmp_path / "vault"
    export_markdown(lib, out, two)
    written = (out / MANIFEST_NAME).read_bytes()
    assert len(export_markdown(lib, out, two).unchanged) == 2
    assert (out / MANIFEST_NAME).read_bytes() == written  # (each commit would count in its header)
    lib.tag([two[0]], ["later"])
    export_markdown(lib, out, two)
    assert (out / MANIFEST_NAME).read_bytes() != written


def manifest_rows(out: Path) -> dict[str, tuple]:
    with closing(sqlite3.connect(out / MANIFEST_NAME)) as conn:
        return {row[0]: row for row in conn.execute("SELECT * FROM papers")}


CRASH = """
import os, sys
from paperdesk.core import Library
from paperdesk.core.export import export_markdown, markdown
markdown.BLOCK = 4
lib = Library.open(sys.argv[1])
ids = sys.argv[3].split(",")
def progress(done, total, _name):  # the 7th file of the write pass, before it is written: killed
    if done == len(ids) + 6:
        os._exit(3)
export_markdown(lib, sys.argv[2], ids, progress=progress)
"""


def test_a_crash_mid_export_leaves_the_previous_manifest_usable(seeded, library_dir, tmp_path):
    ids = seeded.paper_ids(limit=12)
    out = tmp_path / "vault"
    export_markdown(seeded, out, ids)
    late, early = file_of(out, ids[10]), file_of(out, ids[1])  # not reached by the crash, reached
    for path in (late, early):
        path.write_text(path.read_text(encoding="utf-8").replace("status: inbox", "status: reading"),
                        encoding="utf-8")
    seeded.tag(ids, ["later"])
    before = manifest_rows(out)
    crashed = subprocess.run([sys.executable, "-c", CRASH, str(library_dir), str(out), ",".join(ids)],
                             capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 3, crashed.stderr
    # killed inside a transaction (papers 4 and 5 written, their rows not committed): a hot journal
    assert (out / (MANIFEST_NAME + "-journal")).exists()
    assert sum("later" in p.read_text(encoding="utf-8") for p in out.glob("*.md")) == 6
    after = manifest_rows(out)  # opening it rolls the unfinished transaction back
    assert [i for i in ids if after[i] != before[i]] == ids[:4]  # the committed block, as written

    report = export_markdown(seeded, out, ids)
    assert report.ok and report.warnings == [] and len(list(out.glob("*.md"))) == len(ids)
    assert [i.paper_id for i in report.written] == ids[6:]  # 4 and 5 are found as they were written
    for path in (late, early):  # the user's edits are still known as the user's
        doc = split_document(path.read_text(encoding="utf-8"))
        assert doc.value("status") == "reading" and "later" in doc.value("tags")
    assert not (out / (MANIFEST_NAME + "-journal")).exists()
