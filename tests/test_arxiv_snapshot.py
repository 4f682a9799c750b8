"""The arXiv metadata snapshot: streamed, resumable, filtered, merged; categories and versions."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from paperdesk.core import Library
from paperdesk.core import arxiv_snapshot as snap
from paperdesk.core.export.bibtex import entry
from paperdesk.core.records import IncomingPaper, SourceBatch


def record(
    n: int, cats: str = "cs.CL cs.LG", versions: int = 1, update: str = "2024-03-01", title: str | None = None
) -> dict:
    return {
        "id": f"2403.{n:05d}",
        "submitter": "Ada Lovelace",
        "authors": "Ada Lovelace, Alan Turing and Grace Hopper",
        "title": title or f"On $\\mathcal{{O}}(n)$ attention\n  number {n}",
        "comments": "10 pages",
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": cats,
        "license": "http://creativecommons.org/licenses/by/4.0/",
        "abstract": f"  We study $x^2$ in paper {n}.\nIt is\n  new.\n",
        "versions": [
            {"version": f"v{v}", "created": f"Mon, {v} Apr 2024 10:00:00 GMT"} for v in range(1, versions + 1)
        ],
        "update_date": update,
        "authors_parsed": [["Lovelace", "Ada", ""], ["Turing", "Alan", ""], ["Hopper", "Grace", "Jr"]],
    }


def write(path, lines: list) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write((line if isinstance(line, str) else json.dumps(line)) + "\n")


@pytest.fixture
def lib(tmp_path):
    with Library.open(tmp_path / "lib") as library:
        yield library


def test_import_keeps_tex_authors_categories_dates_and_versions(lib, tmp_path):
    f = tmp_path / "snap.jsonl"
    write(f, [record(1, versions=3), record(2, cats="math.AG cs.LG")])
    report = snap.import_snapshot(lib, f)
    assert (report.papers, report.new, report.bad, report.finished) == (2, 2, 0, True)
    paper = lib.get("2403.00001")
    assert paper["title"] == "On $\\mathcal{O}(n)$ attention number 1"
    assert paper["abstract"] == "We study $x^2$ in paper 1. It is new."
    assert paper["authors"] == ["Ada Lovelace", "Alan Turing", "Grace Hopper Jr"]
    assert paper["published"] == "2024-04-01"
    assert paper["categories"] == ["cs.CL", "cs.LG"] and paper["primary_category"] == "cs.CL"
    assert paper["arxiv_version"] == "v3"
    bib = entry(lib.get("2403.00002"), "k")
    assert "primaryClass = {math.AG}" in bib and "eprint = {2403.00002}" in bib
    # One source for the file, however many parts.
    assert lib.conn.execute("SELECT count(*) FROM sources").fetchone()[0] == 1


def test_bad_lines_are_counted_with_their_numbers_and_never_stop_the_import(lib, tmp_path):
    f = tmp_path / "snap.jsonl"
    huge = json.dumps(record(9) | {"abstract": "x" * (snap.MAX_LINE + 10)})
    write(
        f,
        [
            record(1),
            "{broken json",
            {"title": "no id"},
            [1, 2],
            huge,
            record(3) | {"id": "not an id"},
            record(4) | {"title": "  "},
            "",
            record(5),
        ],
    )
    report = snap.import_snapshot(lib, f)
    assert report.new == 2 and report.bad == 6
    assert [n for n, _ in report.bad_lines] == [2, 3, 4, 5, 6, 7]
    reasons = dict(report.bad_lines)
    assert reasons[2] == "broken JSON" and reasons[3] == "no id" and "1 MB" in reasons[5]
    assert {p["id"] for p in lib.papers()} == {"2403.00001", "2403.00005"}


def test_category_and_since_filters(lib, tmp_path):
    f = tmp_path / "snap.jsonl"
    write(
        f,
        [
            record(1, cats="cs.CL"),
            record(2, cats="math.AG"),
            record(3, cats="stat.ML cs.LG"),
            record(4, cats="cs.CV", update="2020-01-01"),
        ],
    )
    report = snap.import_snapshot(
        lib, f, snap.Filters(["cs.*"], since=__import__("datetime").date(2023, 1, 1))
    )
    assert report.new == 2 and report.filtered == 2
    assert {p["id"] for p in lib.papers()} == {"2403.00001", "2403.00003"}


def test_a_stopped_import_continues_and_a_repeat_adds_nothing(lib, tmp_path, monkeypatch):
    monkeypatch.setattr(snap, "PART", 3)
    f = tmp_path / "snap.jsonl"
    write(f, [record(n) for n in range(1, 11)])
    calls = iter(range(100))
    report = snap.import_snapshot(lib, f, cancelled=lambda: next(calls) >= 2)  # two parts, then stop
    assert report.cancelled and not report.finished and report.new == 6
    assert lib.count() == 6
    again = snap.import_snapshot(lib, f)
    assert again.resumed_at_line == 6 and again.new == 4 and again.finished
    assert lib.count() == 10
    third = snap.import_snapshot(lib, f)
    assert third.already_done and lib.count() == 10
    provenance = lib.conn.execute("SELECT count(*) FROM provenance").fetchone()[0]
    assert provenance == 10


def test_an_interrupted_part_rolls_back_whole(lib, tmp_path, monkeypatch):
    monkeypatch.setattr(snap, "PART", 4)
    f = tmp_path / "snap.jsonl"
    write(f, [record(n) for n in range(1, 9)])
    # The second part's third paper fails to store, after two of its papers were written.
    lib.conn.execute("CREATE TEMP TRIGGER fail BEFORE INSERT ON papers WHEN NEW.id = '2403.00007' "
                     "BEGIN SELECT RAISE(ABORT, 'the disk went away'); END")
    with pytest.raises(sqlite3.IntegrityError, match="the disk went away"):
        snap.import_snapshot(lib, f)
    assert lib.count() == 4  # 2403.00005 and 00006 went with their part
    lib.conn.execute("DROP TRIGGER fail")
    report = snap.import_snapshot(lib, f)
    assert report.resumed_at_line == 4 and report.new == 4 and lib.count() == 8


def test_merges_with_feed_sightings_and_marks_papers_updated_after_a_decision(lib, tmp_path):
    lib.import_batch(
        SourceBatch(
            "feed",
            "cs.CL",
            "https://example.org/rss",
            "2024-04-02",
            "h1",
            [
                IncomingPaper(
                    "On $\\mathcal{O}(n)$ attention number 1",
                    "",
                    arxiv_id="2403.00001",
                    upvotes=7,
                    arxiv_version="v1",
                ),
                IncomingPaper("A paper the digest named by title", "Its abstract."),
            ],
        )
    )
    lib.star(["2403.00001"])
    digest_only = lib.papers()[1]["id"] if lib.papers()[0]["id"] == "2403.00001" else lib.papers()[0]["id"]
    lib.archive([digest_only])
    f = tmp_path / "snap.jsonl"
    write(f, [record(1, versions=3), record(2, title="A paper the digest named by title", versions=2)])
    snap.import_snapshot(lib, f)
    assert lib.count() == 2  # one record per paper
    starred = lib.get("2403.00001")
    assert starred["upvotes"] == 7 and starred["categories"] == ["cs.CL", "cs.LG"]
    assert starred["updated_note"] == "v3, updated after you starred v1"
    by_title = lib.get(digest_only)
    assert by_title["arxiv_id"] == "2403.00002" and by_title["updated_note"] is None  # version unknown before
    hits = lib.search.run("is:updated", typing=False)
    assert [h.id for h in hits.hits] == ["2403.00001"]
    assert [h.id for h in lib.search.run("attention is:updated", typing=False).hits] == ["2403.00001"]
    lib.star(["2403.00001"], False)  # a new decision answers the note
    assert lib.get("2403.00001")["updated_note"] is None
    assert lib.search.run("is:updated", typing=False).total == 0


def test_a_newer_version_brings_its_categories_an_older_or_same_one_does_not(lib, tmp_path):
    first, second, third = (tmp_path / f"snap{k}.jsonl" for k in (1, 2, 3))
    write(first, [record(1, cats="cs.LG", versions=1)])
    write(second, [record(1, cats="cs.CL cs.AI", versions=2)])
    write(third, [record(1, cats="math.AG", versions=2)])  # same version: the stored list stays
    snap.import_snapshot(lib, first)
    snap.import_snapshot(lib, second)
    snap.import_snapshot(lib, third)
    paper = lib.get("2403.00001")
    assert paper["categories"] == ["cs.CL", "cs.AI"] and paper["primary_category"] == "cs.CL"
    assert {h.id for h in lib.search.run("cat:cs.AI", typing=False).hits} == {"2403.00001"}
    assert lib.search.run("cat:cs.LG", typing=False).total == 0


def test_cat_queries_exact_and_patterns(lib, tmp_path):
    f = tmp_path / "snap.jsonl"
    write(f, [record(1, cats="cs.CL"), record(2, cats="math.AG cs.LG"), record(3, cats="stat.ML")])
    snap.import_snapshot(lib, f)

    def ids(q: str) -> set[str]:
        return {h.id for h in lib.search.run(q, limit=None, typing=False).hits}

    assert ids("cat:cs.CL") == {"2403.00001"}
    assert ids("cat:cs.*") == {"2403.00001", "2403.00002"}
    assert ids("category:CS.lg") == {"2403.00002"}
    assert ids("attention -cat:cs.*") == {"2403.00003"}
    assert {h.id for h in lib.search.run("cat:ma", limit=None).hits} == {"2403.00002"}  # as you type


def test_cli_import_arxiv_json_and_errors(tmp_path):
    f = tmp_path / "snap.jsonl"
    write(f, [record(1), "{oops", record(2)])
    run = [sys.executable, "-m", "paperdesk", "--library", str(tmp_path / "lib")]
    out = subprocess.run([*run, "import-arxiv", str(f), "--json"], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert data["new"] == 2 and data["bad_lines"] == [{"line": 2, "reason": "broken JSON"}]
    out = subprocess.run([*run, "import-arxiv", str(f)], capture_output=True, text=True, check=True)
    assert "already imported" in out.stdout
    missing = subprocess.run(
        [*run, "import-arxiv", str(tmp_path / "nope.jsonl")], capture_output=True, text=True
    )
    assert missing.returncode == 1 and "Traceback" not in missing.stderr and "nope.jsonl" in missing.stderr
    bad = subprocess.run(
        [*run, "import-arxiv", str(f), "--since", "yesterday"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "not a date" in bad.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_snapshot_is_named_and_nothing_is_recorded(lib, tmp_path):
    """A permission error on the snapshot is the file's, not a read-only library's."""
    f = tmp_path / "snap.jsonl"
    write(f, [record(1)])
    f.chmod(0)
    with pytest.raises(snap.SnapshotError, match=r"snap\.jsonl: cannot be read"):
        snap.import_snapshot(lib, f)
    assert lib.conn.execute("SELECT count(*) FROM snapshot_imports").fetchone()[0] == 0
