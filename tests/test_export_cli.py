"""`paperdesk export ...` end to end, in a subprocess, as scripts use it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import bibtexparser
from samples import DIGEST_PLAIN

from paperdesk.cli.export_cmds import select_ids


def run(*args: str, library=None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "paperdesk"]
    if library is not None:
        cmd += ["--library", str(library)]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONWARNINGS": "error"})


def test_export_markdown_and_bibtex_end_to_end(tmp_path):
    library = tmp_path / "lib"
    assert run("import", str(DIGEST_PLAIN), library=library).returncode == 0
    ids = [r["id"] for r in json.loads(run("list", "--json", "--limit", "3", library=library).stdout)]
    assert run("tag", ids[0], "week", library=library).returncode == 0
    assert run("tag", ids[1], "week", library=library).returncode == 0
    out = tmp_path / "vault"

    dry = run("export", "markdown", str(out), "--tag", "week", "--dry-run", "--json", library=library)
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dry_run"] and len(report["would_change"]) == 2 and not out.exists()

    done = run("export", "markdown", str(out), "--tag", "week", library=library)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"2 created, 0 updated, 0 unchanged in {out}")
    notes = sorted(p for p in out.glob("*.md"))
    assert len(notes) == 2

    notes[0].write_text(notes[0].read_text(encoding="utf-8").replace("<!-- paperdesk:end note -->", ""),
                        encoding="utf-8")
    assert run("tag", ids[0], "later", library=library).returncode == 0
    assert run("tag", ids[1], "later", library=library).returncode == 0
    again = run("export", "markdown", str(out), "--tag", "week", "--json", library=library)
    assert again.returncode == 1  # one file could not be merged: reported, and the exit status says so
    report = json.loads(again.stdout)
    assert len(report["skipped"]) == 1 and len(report["written"]) == 1
    assert "no end marker" in report["skipped"][0]["reason"]

    one = run("export", "markdown", str(out), "--one-file", "Week", "--tag", "week", library=library)
    assert one.returncode == 0 and (out / "Week.md").is_file()
    assert "# Tag: week" in (out / "Week.md").read_text(encoding="utf-8")

    bib = tmp_path / "week.bib"
    proc = run("export", "bibtex", str(bib), "--tag", "week", "--unicode", "latex", "--json", library=library)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["entries"] == 2
    assert len(bibtexparser.parse_string(bib.read_text(encoding="utf-8")).entries) == 2
    everything = run("export", "bibtex", str(tmp_path / "all.bib"), library=library)
    assert everything.returncode == 0 and "wrote 79 entries" in everything.stdout


def test_export_errors_are_one_line_and_change_nothing(tmp_path):
    library = tmp_path / "lib"
    empty = run("export", "markdown", str(tmp_path / "out"), library=library)
    assert empty.returncode == 1 and empty.stderr.strip() == "paperdesk: the library has no papers"
    run("import", str(DIGEST_PLAIN), library=library)
    proc = run("export", "markdown", str(tmp_path / "out"), "--tag", "nope", library=library)
    assert proc.returncode == 1 and proc.stderr.strip() == "paperdesk: no papers match tag 'nope'"
    proc = run("export", "markdown", str(tmp_path / "out"), "--template", "nosuch", library=library)
    assert proc.returncode == 1 and proc.stderr.startswith("paperdesk: no template 'nosuch'")
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run("export", "bibtex", str(tmp_path / "x.bib"), "--key-pattern", "{nope}", library=library)
    assert proc.returncode == 1 and "bad key pattern" in proc.stderr
    assert run("export", "bibtex", str(tmp_path / "x.bib"), "--unicode", "ascii",
               library=library).returncode == 2
    assert run("export", library=library).returncode == 2
    assert not (tmp_path / "out").exists() and not (tmp_path / "x.bib").exists()


def test_query_selects_search_hits(seeded):
    args = argparse.Namespace(query="agents", tag=None)
    ids = select_ids(seeded, args)
    assert ids and set(ids) <= set(seeded.paper_ids())
    seeded.tag(ids[:1], ["picked"])
    assert select_ids(seeded, argparse.Namespace(query="agents", tag="picked")) == ids[:1]
